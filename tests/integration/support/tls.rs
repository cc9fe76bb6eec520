//! TLS for the tests, made in the tests: a certificate authority and a server certificate for
//! `localhost` and `127.0.0.1` (rcgen), and a TLS terminator that puts TLS in front of a plain
//! service (tokio-rustls), so the spooler's TLS clients can be tested against the real
//! PostgreSQL and RabbitMQ without reconfiguring them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// A CA and a server certificate it signed, as PEM files in a directory of their own.
pub struct Certs {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    server_cert: CertificateDer<'static>,
    server_key: Vec<u8>,
}

impl Certs {
    pub fn new() -> Certs {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "cardspool test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let server_params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let ca = write("ca.pem", &ca_cert.pem());
        let cert = write("cert.pem", &server_cert.pem());
        let key = write("key.pem", &server_key.serialize_pem());
        Certs { ca, cert, key, server_cert: server_cert.der().clone(), server_key: server_key.serialize_der(), dir }
    }

    fn acceptor(&self) -> TlsAcceptor {
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let config = tokio_rustls::rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![self.server_cert.clone()], PrivateKeyDer::Pkcs8(self.server_key.clone().into()))
            .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// How a client asks for TLS: at once (AMQP over TLS), or PostgreSQL's way (an `SSLRequest`
/// message in plain text, answered `S`, then the handshake).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Prelude {
    None,
    Postgres,
}

/// TLS on `127.0.0.1:port`, forwarded in plain text to `upstream`; counts the sessions that
/// completed a handshake (a client that went around it would not be counted).
pub struct TlsFront {
    pub addr: SocketAddr,
    handshakes: Arc<AtomicU32>,
}

impl TlsFront {
    pub async fn start(certs: &Certs, upstream: SocketAddr, prelude: Prelude) -> TlsFront {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = certs.acceptor();
        let handshakes = Arc::new(AtomicU32::new(0));
        let counted = handshakes.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let counted = counted.clone();
                tokio::spawn(async move {
                    if prelude == Prelude::Postgres {
                        // SSLRequest: length 8, code 80877103.
                        let mut request = [0_u8; 8];
                        if client.read_exact(&mut request).await.is_err()
                            || request != [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]
                        {
                            return;
                        }
                        if client.write_all(b"S").await.is_err() {
                            return;
                        }
                    }
                    let Ok(mut tls) = acceptor.accept(client).await else { return };
                    counted.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                });
            }
        });
        TlsFront { addr, handshakes }
    }

    pub fn handshakes(&self) -> u32 {
        self.handshakes.load(Ordering::SeqCst)
    }
}
