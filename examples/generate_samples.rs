//! Generates the sample enrollment events (`samples/events/`) and the corpus of invalid events
//! (`samples/invalid/`, with `expected.toml`) that the tests, the renderer and the demo use.
//!
//! `cargo run --example generate_samples` rewrites both directories. The output is deterministic
//! (a seeded RNG, fixed encoders), so a rerun changes nothing unless this program changed.
//!
//! Every person here is invented. The portraits are drawn from ellipses (no real faces): a 3:4
//! JPEG on the e-KTP background colour (red for odd birth years, blue for even). The signatures
//! are a pen stroke on a transparent PNG.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const SEED: u64 = 0x0EC7_7A9E_2026;
const PHOTO_WIDTH: u32 = 300;
const PHOTO_HEIGHT: u32 = 400;
const SIGNATURE_WIDTH: u32 = 400;
const SIGNATURE_HEIGHT: u32 = 160;

/// One invented person and the event that enrolls them.
struct Person {
    slug: &'static str,
    office: &'static str,
    /// Province + regency + district of the NIK (where the person was first registered).
    nik_region: &'static str,
    serial: u16,
    name: &'static str,
    birth_place: &'static str,
    birth_date: &'static str,
    sex: Sex,
    /// Set only where the NIK deliberately disagrees with the stated birth date or sex.
    nik_birth_date: Option<&'static str>,
    nik_sex: Option<Sex>,
    blood_type: &'static str,
    address: [&'static str; 6],
    religion: &'static str,
    marital_status: &'static str,
    occupation: &'static str,
    /// `None` for a citizen (`SEUMUR HIDUP`), the permit's end date for a foreigner.
    wna_valid_until: Option<&'static str>,
    priority: Option<&'static str>,
    template: Option<&'static str>,
    occurred_at: &'static str,
    looks: Looks,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sex {
    Male,
    Female,
}

#[derive(Clone, Copy)]
struct Looks {
    hijab: bool,
    /// 0 (light) ..= 4 (dark).
    skin: usize,
    glasses: bool,
}

const fn looks(hijab: bool, skin: usize, glasses: bool) -> Looks {
    Looks { hijab, skin, glasses }
}

use Sex::{Female as F, Male as M};

#[rustfmt::skip]
const PEOPLE: &[Person] = &[
    Person { slug: "merangin-hamidah", office: "1502", nik_region: "150201", serial: 1, name: "HAMIDAH",
        birth_place: "BANGKO", birth_date: "1985-03-12", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "O",
        address: ["JL. SUDIRMAN NO. 1", "001/002", "PASAR BANGKO", "BANGKO", "MERANGIN", "JAMBI"],
        religion: "ISLAM", marital_status: "KAWIN", occupation: "WIRASWASTA", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-27T09:12:00+07:00", looks: looks(true, 2, false) },
    Person { slug: "merangin-sutrisno", office: "1502", nik_region: "150203", serial: 14, name: "SUTRISNO",
        birth_place: "SUNGAI MANAU", birth_date: "1979-08-17", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "A",
        address: ["JL. LINTAS SUMATERA KM. 12", "004/001", "PEMATANG KANDIS", "BANGKO", "MERANGIN", "JAMBI"],
        religion: "ISLAM", marital_status: "KAWIN", occupation: "PETANI/PEKEBUN", wna_valid_until: None,
        priority: Some("urgent"), template: Some("ektp"), occurred_at: "2026-11-27T09:20:41+07:00", looks: looks(false, 3, false) },
    Person { slug: "merangin-siti-nuraini", office: "1502", nik_region: "150202", serial: 3, name: "SITI NUR'AINI",
        birth_place: "BANGKO", birth_date: "2009-01-05", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "B",
        address: ["JL. PROF. M. YAMIN NO. 27", "002/003", "DUSUN BANGKO", "BANGKO", "MERANGIN", "JAMBI"],
        religion: "ISLAM", marital_status: "BELUM KAWIN", occupation: "PELAJAR/MAHASISWA", wna_valid_until: None,
        priority: Some("normal"), template: None, occurred_at: "2026-11-27T10:02:13+07:00", looks: looks(true, 2, false) },
    Person { slug: "banda-aceh-muhammad-rizki", office: "1171", nik_region: "117103", serial: 27, name: "MUHAMMAD RIZKI",
        birth_place: "BANDA ACEH", birth_date: "1990-11-02", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "AB",
        address: ["JL. T. NYAK ARIEF NO. 45", "000/000", "LAMGUGOB", "SYIAH KUALA", "KOTA BANDA ACEH", "ACEH"],
        religion: "ISLAM", marital_status: "BELUM KAWIN", occupation: "KARYAWAN SWASTA", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-26T14:31:00+07:00", looks: looks(false, 2, true) },
    Person { slug: "medan-lie-mei-ling", office: "1275", nik_region: "127509", serial: 102, name: "LIE MEI LING",
        birth_place: "MEDAN", birth_date: "1972-06-24", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "A",
        address: ["JL. SEMARANG NO. 88", "003/012", "PUSAT PASAR", "MEDAN KOTA", "KOTA MEDAN", "SUMATERA UTARA"],
        religion: "BUDDHA", marital_status: "CERAI MATI", occupation: "PEDAGANG", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-26T08:05:30+07:00", looks: looks(false, 0, true) },
    Person { slug: "tapanuli-utara-simanjuntak", office: "1205", nik_region: "120501", serial: 9,
        name: "JONGGI PARLINDUNGAN SIMANJUNTAK", birth_place: "TARUTUNG", birth_date: "1968-12-30", sex: M,
        nik_birth_date: None, nik_sex: None, blood_type: "O",
        address: ["JL. DIPONEGORO NO. 5", "001/001", "HUTATORUAN VII", "TARUTUNG", "TAPANULI UTARA", "SUMATERA UTARA"],
        religion: "KRISTEN", marital_status: "KAWIN", occupation: "GURU", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-25T11:47:02+07:00", looks: looks(false, 3, false) },
    Person { slug: "padang-rahmi-yulianti", office: "1371", nik_region: "137106", serial: 44, name: "RAHMI YULIANTI",
        birth_place: "PADANG", birth_date: "1995-09-14", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "B",
        address: ["JL. KHATIB SULAIMAN NO. 12", "002/005", "LOLONG BELANTI", "PADANG UTARA", "KOTA PADANG", "SUMATERA BARAT"],
        religion: "ISLAM", marital_status: "KAWIN", occupation: "PERAWAT", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-27T13:15:09+07:00", looks: looks(true, 1, false) },
    // Day and month swapped when the NIK was issued; the birth date was corrected later, the NIK
    // never changes: accepted with a warning.
    Person { slug: "palembang-abdul-kadir", office: "1671", nik_region: "167102", serial: 7, name: "ABDUL KADIR",
        birth_place: "PALEMBANG", birth_date: "1958-01-04", sex: M, nik_birth_date: Some("1958-04-01"), nik_sex: None,
        blood_type: "-",
        address: ["JL. MERDEKA NO. 3", "005/002", "TALANG SEMUT", "BUKIT KECIL", "KOTA PALEMBANG", "SUMATERA SELATAN"],
        religion: "ISLAM", marital_status: "CERAI MATI", occupation: "PENSIUNAN", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-24T09:00:00+07:00", looks: looks(false, 3, true) },
    Person { slug: "pangkalpinang-yusuf-efendi", office: "1971", nik_region: "197104", serial: 61, name: "YUSUF EFENDI",
        birth_place: "PANGKALPINANG", birth_date: "2003-05-21", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "O",
        address: ["JL. SOEKARNO HATTA NO. 210", "007/003", "BUKIT BESAR", "GIRIMAYA", "KOTA PANGKAL PINANG", "KEPULAUAN BANGKA BELITUNG"],
        religion: "ISLAM", marital_status: "BELUM KAWIN", occupation: "NELAYAN/PERIKANAN", wna_valid_until: None,
        priority: None, template: Some("ektp"), occurred_at: "2026-11-26T15:42:18+07:00", looks: looks(false, 3, false) },
    // Moved from Banyumas to Jakarta: the NIK keeps the region of first registration.
    Person { slug: "jakarta-selatan-bayu", office: "3174", nik_region: "330214", serial: 5, name: "BAYU",
        birth_place: "PURWOKERTO", birth_date: "1988-07-07", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "A",
        address: ["JL. TEBET BARAT DALAM RAYA NO. 9", "006/004", "TEBET BARAT", "TEBET", "KOTA ADM. JAKARTA SELATAN", "DKI JAKARTA"],
        religion: "ISLAM", marital_status: "KAWIN", occupation: "KARYAWAN SWASTA", wna_valid_until: None,
        priority: Some("urgent"), template: Some("ektp"), occurred_at: "2026-11-27T08:01:55+07:00", looks: looks(false, 2, false) },
    Person { slug: "bandung-neng-sri-wahyuni", office: "3273", nik_region: "327302", serial: 118, name: "NENG SRI WAHYUNI",
        birth_place: "BANDUNG", birth_date: "2001-10-28", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "O",
        address: ["JL. IR. H. JUANDA NO. 150", "003/007", "LEBAK SILIWANGI", "COBLONG", "KOTA BANDUNG", "JAWA BARAT"],
        religion: "ISLAM", marital_status: "BELUM KAWIN", occupation: "PELAJAR/MAHASISWA", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-25T10:10:10+07:00", looks: looks(false, 1, false) },
    Person { slug: "kuningan-asep-sunarya", office: "3208", nik_region: "320811", serial: 2, name: "ASEP SUNARYA",
        birth_place: "KUNINGAN", birth_date: "1975-05-20", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "B",
        address: ["DUSUN WAGE", "002/001", "CIGUGUR", "CIGUGUR", "KUNINGAN", "JAWA BARAT"],
        religion: "KEPERCAYAAN TERHADAP TUHAN YME", marital_status: "KAWIN", occupation: "PETANI/PEKEBUN",
        wna_valid_until: None, priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-23T09:34:00+07:00",
        looks: looks(false, 2, false) },
    Person { slug: "semarang-christina-wulandari", office: "3374", nik_region: "337405", serial: 36, name: "CHRISTINA WULANDARI",
        birth_place: "SEMARANG", birth_date: "1966-12-25", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "A",
        address: ["JL. PANDANARAN NO. 77", "004/002", "PEKUNDEN", "SEMARANG TENGAH", "KOTA SEMARANG", "JAWA TENGAH"],
        religion: "KATOLIK", marital_status: "CERAI HIDUP", occupation: "PEGAWAI NEGERI SIPIL", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-26T10:45:00+07:00", looks: looks(false, 1, true) },
    // A 60-character name: the longest the contract allows.
    Person { slug: "yogyakarta-long-name", office: "3471", nik_region: "347107", serial: 12,
        name: "RADEN RORO KUSUMANINGTYAS SEKARWANGI PURBANINGRUM HADINEGORO", birth_place: "YOGYAKARTA",
        birth_date: "1992-08-03", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "AB",
        address: ["JL. PRAWIROTAMAN NO. 14", "010/003", "BRONTOKUSUMAN", "MERGANGSAN", "KOTA YOGYAKARTA", "DI YOGYAKARTA"],
        religion: "ISLAM", marital_status: "BELUM KAWIN", occupation: "DOKTER", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-27T11:11:11+07:00", looks: looks(false, 1, false) },
    Person { slug: "surabaya-achmad-fauzi", office: "3578", nik_region: "357810", serial: 88, name: "ACHMAD FAUZI",
        birth_place: "SURABAYA", birth_date: "1980-01-31", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "O",
        address: ["JL. KEDUNGDORO NO. 101", "002/006", "KEDUNGDORO", "TEGALSARI", "KOTA SURABAYA", "JAWA TIMUR"],
        religion: "ISLAM", marital_status: "KAWIN", occupation: "SOPIR", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-24T13:05:00+07:00", looks: looks(false, 3, false) },
    Person { slug: "malang-sumiati", office: "3507", nik_region: "350701", serial: 4, name: "SUMIATI",
        birth_place: "MALANG", birth_date: "1950-02-14", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "-",
        address: ["DUSUN KRAJAN", "001/001", "SUMBERPUCUNG", "SUMBERPUCUNG", "MALANG", "JAWA TIMUR"],
        religion: "ISLAM", marital_status: "CERAI MATI", occupation: "MENGURUS RUMAH TANGGA", wna_valid_until: None,
        priority: Some("urgent"), template: Some("ektp"), occurred_at: "2026-11-27T09:58:27+07:00", looks: looks(true, 3, true) },
    Person { slug: "denpasar-kadek-artawan", office: "5171", nik_region: "517104", serial: 53, name: "I KADEK DWI ARTAWAN",
        birth_place: "DENPASAR", birth_date: "1987-09-09", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "A",
        address: ["JL. GATOT SUBROTO TIMUR NO. 8", "000/000", "TONJA", "DENPASAR UTARA", "KOTA DENPASAR", "BALI"],
        religion: "HINDU", marital_status: "KAWIN", occupation: "WIRASWASTA", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-26T09:21:00+08:00", looks: looks(false, 3, false) },
    Person { slug: "gianyar-ni-luh-putu-ayu", office: "5104", nik_region: "510404", serial: 17, name: "NI LUH PUTU AYU SRIWAHYUNI",
        birth_place: "GIANYAR", birth_date: "1999-04-11", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "B",
        address: ["BANJAR TEGES KAWAN", "000/000", "PELIATAN", "UBUD", "GIANYAR", "BALI"],
        religion: "HINDU", marital_status: "BELUM KAWIN", occupation: "KARYAWAN SWASTA", wna_valid_until: None,
        priority: None, template: None, occurred_at: "2026-11-26T10:30:00+08:00", looks: looks(false, 2, false) },
    // A foreign resident: a NIK too, diacritics in the name, the card valid until the permit ends.
    Person { slug: "gianyar-wna-lefevre", office: "5104", nik_region: "510404", serial: 902, name: "FRANÇOIS ÉMILE LEFÈVRE",
        birth_place: "LYON", birth_date: "1976-07-21", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "O",
        address: ["JL. RAYA SAYAN NO. 9", "000/000", "SAYAN", "UBUD", "GIANYAR", "BALI"],
        religion: "KATOLIK", marital_status: "KAWIN", occupation: "WIRASWASTA", wna_valid_until: Some("2031-03-14"),
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-26T11:02:45+08:00", looks: looks(false, 0, true) },
    Person { slug: "mataram-baiq-nurul-hidayati", office: "5271", nik_region: "527102", serial: 29, name: "BAIQ NURUL HIDAYATI",
        birth_place: "MATARAM", birth_date: "1984-05-05", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "AB",
        address: ["JL. PEJANGGIK NO. 40", "002/004", "MATARAM TIMUR", "MATARAM", "KOTA MATARAM", "NUSA TENGGARA BARAT"],
        religion: "ISLAM", marital_status: "KAWIN", occupation: "GURU", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-25T08:44:00+08:00", looks: looks(true, 2, false) },
    Person { slug: "kupang-yohanes-laka", office: "5371", nik_region: "537103", serial: 71, name: "YOHANES BERKHMANS LAKA",
        birth_place: "ATAMBUA", birth_date: "1993-10-10", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "O",
        address: ["JL. EL TARI NO. 11", "012/004", "OEBOBO", "OEBOBO", "KOTA KUPANG", "NUSA TENGGARA TIMUR"],
        religion: "KATOLIK", marital_status: "BELUM KAWIN", occupation: "NELAYAN/PERIKANAN", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-24T14:14:00+08:00", looks: looks(false, 4, false) },
    Person { slug: "singkawang-bong-sui-lin", office: "6172", nik_region: "617201", serial: 58, name: "BONG SUI LIN",
        birth_place: "SINGKAWANG", birth_date: "1970-03-03", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "B",
        address: ["JL. SETIA BUDI NO. 48", "004/002", "PASIRAN", "SINGKAWANG BARAT", "KOTA SINGKAWANG", "KALIMANTAN BARAT"],
        religion: "KHONGHUCU", marital_status: "KAWIN", occupation: "PEDAGANG", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-25T09:09:00+07:00", looks: looks(false, 0, false) },
    // The NIK encodes a woman (day + 40), the record says a man: accepted with a warning.
    Person { slug: "palangka-raya-andrias-tingang", office: "6271", nik_region: "627102", serial: 10,
        name: "ANDRIAS TINGANG", birth_place: "KUALA KAPUAS", birth_date: "1996-12-12", sex: M, nik_birth_date: None,
        nik_sex: Some(F), blood_type: "A",
        address: ["JL. TJILIK RIWUT KM. 7", "003/011", "BUKIT TUNGGAL", "JEKAN RAYA", "KOTA PALANGKA RAYA", "KALIMANTAN TENGAH"],
        religion: "KRISTEN", marital_status: "BELUM KAWIN", occupation: "BURUH HARIAN LEPAS", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-26T13:30:00+07:00", looks: looks(false, 2, false) },
    Person { slug: "samarinda-noor-ainun-jariyah", office: "6472", nik_region: "647203", serial: 31, name: "NOOR AINUN JARIYAH",
        birth_place: "SAMARINDA", birth_date: "1982-11-30", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "O",
        address: ["JL. JUANDA NO. 3", "011/000", "AIR HITAM", "SAMARINDA ULU", "KOTA SAMARINDA", "KALIMANTAN TIMUR"],
        religion: "ISLAM", marital_status: "CERAI HIDUP", occupation: "WIRASWASTA", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-27T10:20:00+08:00", looks: looks(true, 2, false) },
    Person { slug: "manado-freddy-mamahit", office: "7171", nik_region: "717104", serial: 6, name: "FREDDY JOHANIS MAMAHIT",
        birth_place: "TOMOHON", birth_date: "1961-06-15", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "AB",
        address: ["JL. SAM RATULANGI NO. 66", "000/005", "WENANG SELATAN", "WENANG", "KOTA MANADO", "SULAWESI UTARA"],
        religion: "KRISTEN", marital_status: "KAWIN", occupation: "PENSIUNAN", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-24T10:00:00+08:00", looks: looks(false, 1, true) },
    Person { slug: "makassar-andi-sadiyah", office: "7371", nik_region: "737102", serial: 140, name: "ANDI SA'DIYAH",
        birth_place: "MAKASSAR", birth_date: "1989-07-27", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "A",
        address: ["JL. DAENG TATA NO. 5", "002/003", "PARANG TAMBUNG", "TAMALATE", "KOTA MAKASSAR", "SULAWESI SELATAN"],
        religion: "ISLAM", marital_status: "KAWIN", occupation: "MENGURUS RUMAH TANGGA", wna_valid_until: None,
        priority: Some("urgent"), template: Some("ektp"), occurred_at: "2026-11-27T08:30:00+08:00", looks: looks(true, 2, false) },
    Person { slug: "tana-toraja-yulius-palimbong", office: "7318", nik_region: "731801", serial: 22, name: "YULIUS PALIMBONG",
        birth_place: "MAKALE", birth_date: "1977-03-08", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "B",
        address: ["JL. POROS MAKALE-RANTEPAO", "000/000", "TONDON MAMULLU", "MAKALE", "TANA TORAJA", "SULAWESI SELATAN"],
        religion: "KRISTEN", marital_status: "CERAI HIDUP", occupation: "PETANI/PEKEBUN", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-23T11:00:00+08:00", looks: looks(false, 3, false) },
    Person { slug: "ambon-maria-latumahina", office: "8171", nik_region: "817102", serial: 19, name: "MARIA GORETTI LATUMAHINA",
        birth_place: "AMBON", birth_date: "1991-01-17", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "O",
        address: ["JL. DR. KAYADOE NO. 7", "004/002", "KUDAMATI", "NUSANIWE", "KOTA AMBON", "MALUKU"],
        religion: "KATOLIK", marital_status: "BELUM KAWIN", occupation: "PEGAWAI NEGERI SIPIL", wna_valid_until: None,
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-26T09:40:00+09:00", looks: looks(false, 3, false) },
    Person { slug: "jayapura-eliezer-kogoya", office: "9171", nik_region: "917103", serial: 8, name: "ELIEZER KOGOYA",
        birth_place: "WAMENA", birth_date: "1986-05-19", sex: M, nik_birth_date: None, nik_sex: None, blood_type: "-",
        address: ["JL. RAYA ABEPURA NO. 12", "003/001", "KOTA BARU", "ABEPURA", "KOTA JAYAPURA", "PAPUA"],
        religion: "KRISTEN", marital_status: "KAWIN", occupation: "PEGAWAI NEGERI SIPIL", wna_valid_until: None,
        priority: Some("urgent"), template: Some("ektp"), occurred_at: "2026-11-25T15:15:00+09:00", looks: looks(false, 4, false) },
    Person { slug: "batam-wna-kim-ji-yeon", office: "2171", nik_region: "217106", serial: 915, name: "KIM JI-YEON",
        birth_place: "BUSAN", birth_date: "1981-09-02", sex: F, nik_birth_date: None, nik_sex: None, blood_type: "A",
        address: ["KOMPLEK BATAM CENTER BLOK C NO. 4", "001/009", "BELIAN", "BATAM KOTA", "KOTA BATAM", "KEPULAUAN RIAU"],
        religion: "BUDDHA", marital_status: "KAWIN", occupation: "KARYAWAN SWASTA", wna_valid_until: Some("2028-09-30"),
        priority: Some("normal"), template: Some("ektp"), occurred_at: "2026-11-27T14:02:00+07:00", looks: looks(false, 0, false) },
];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let events_dir = root.join("events");
    let invalid_dir = root.join("invalid");
    for dir in [&events_dir, &invalid_dir] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).expect("remove old samples");
        }
        std::fs::create_dir_all(dir).expect("create samples dir");
    }
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut first = None;
    for (index, person) in PEOPLE.iter().enumerate() {
        let event = person_event(person, &mut rng);
        let path = events_dir.join(format!("{:02}-{}.json", index + 1, person.slug));
        write(&path, event.render().as_bytes());
        first.get_or_insert(event);
    }
    write_invalid(&invalid_dir, &first.expect("at least one person"), &mut rng);
    println!(
        "wrote {} events to {} and the invalid corpus to {}",
        PEOPLE.len(),
        events_dir.display(),
        invalid_dir.display()
    );
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// An event as ordered (key, raw JSON) pairs, so files read in the contract's order.
#[derive(Clone)]
struct Doc(Vec<(String, String)>);

impl Doc {
    fn set(&mut self, key: &str, value: &Value) {
        let raw = serde_json::to_string(value).expect("json");
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = raw,
            None => self.0.push((key.to_owned(), raw)),
        }
    }

    fn set_raw(&mut self, key: &str, raw: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => raw.clone_into(&mut entry.1),
            None => self.0.push((key.to_owned(), raw.to_owned())),
        }
    }

    fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    fn get(&self, key: &str) -> Value {
        let raw = &self.0.iter().find(|(k, _)| k == key).expect("field present").1;
        serde_json::from_str(raw).expect("json")
    }

    fn render(&self) -> String {
        let mut out = String::from("{\n");
        for (i, (key, raw)) in self.0.iter().enumerate() {
            let comma = if i + 1 < self.0.len() { "," } else { "" };
            writeln!(out, "  {}: {raw}{comma}", serde_json::to_string(key).expect("json")).expect("string");
        }
        out.push_str("}\n");
        out
    }
}

/// An address as raw JSON in the contract's field order.
fn address_json(fields: &[(&str, &str)]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}: {}", serde_json::to_string(k).unwrap(), serde_json::to_string(v).unwrap()))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

const ADDRESS_KEYS: [&str; 6] = ["street", "rt_rw", "village", "district", "regency", "province"];

fn person_event(person: &Person, rng: &mut StdRng) -> Doc {
    let nik = nik_for(person);
    let birth_year: u32 = person.birth_date[..4].parse().expect("year");
    let photo = portrait_jpeg(person, birth_year, rng);
    let signature = signature_png(rng);
    let mut doc = Doc(Vec::new());
    doc.set("schema", &json!(1));
    doc.set("event_id", &json!(uuid_v4(rng)));
    doc.set("type", &json!("enrollment.completed"));
    doc.set("occurred_at", &json!(person.occurred_at));
    doc.set("office", &json!(person.office));
    if let Some(template) = person.template {
        doc.set("template", &json!(template));
    }
    if let Some(priority) = person.priority {
        doc.set("priority", &json!(priority));
    }
    doc.set("nik", &json!(nik));
    doc.set("name", &json!(person.name));
    doc.set("birth_place", &json!(person.birth_place));
    doc.set("birth_date", &json!(person.birth_date));
    doc.set("sex", &json!(sex_label(person.sex)));
    doc.set("blood_type", &json!(person.blood_type));
    let address: Vec<(&str, &str)> = ADDRESS_KEYS.iter().copied().zip(person.address.iter().copied()).collect();
    doc.set_raw("address", &address_json(&address));
    doc.set("religion", &json!(person.religion));
    doc.set("marital_status", &json!(person.marital_status));
    doc.set("occupation", &json!(person.occupation));
    doc.set("citizenship", &json!(if person.wna_valid_until.is_some() { "WNA" } else { "WNI" }));
    doc.set("valid_until", &json!(person.wna_valid_until.unwrap_or("SEUMUR HIDUP")));
    doc.set("photo", &json!(base64(&photo)));
    doc.set("signature", &json!(base64(&signature)));
    doc
}

fn sex_label(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "LAKI-LAKI",
        Sex::Female => "PEREMPUAN",
    }
}

fn nik_for(person: &Person) -> String {
    let date = person.nik_birth_date.unwrap_or(person.birth_date);
    let (year, month, day) = (&date[2..4], &date[5..7], &date[8..10]);
    let mut day: u32 = day.parse().expect("day");
    if person.nik_sex.unwrap_or(person.sex) == Sex::Female {
        day += 40;
    }
    format!("{}{day:02}{month}{year}{:04}", person.nik_region, person.serial)
}

fn uuid_v4(rng: &mut StdRng) -> String {
    let mut bytes: [u8; 16] = rng.gen();
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---------------------------------------------------------------------------------------------
// Portraits

const SKIN: [[f32; 3]; 5] =
    [[236.0, 200.0, 172.0], [222.0, 178.0, 142.0], [198.0, 148.0, 108.0], [168.0, 116.0, 80.0], [120.0, 80.0, 56.0]];
/// The e-KTP photo background: red for odd birth years, blue for even.
const BACKGROUND_RED: [f32; 3] = [206.0, 32.0, 41.0];
const BACKGROUND_BLUE: [f32; 3] = [30.0, 80.0, 170.0];

/// A filled shape with a soft (anti-aliased) edge.
enum Shape {
    Ellipse { cx: f32, cy: f32, rx: f32, ry: f32 },
    Ring { cx: f32, cy: f32, r: f32, half_width: f32 },
    Rect { x0: f32, y0: f32, x1: f32, y1: f32 },
}

impl Shape {
    /// Approximate signed distance in pixels (negative inside).
    fn distance(&self, x: f32, y: f32) -> f32 {
        match *self {
            Shape::Ellipse { cx, cy, rx, ry } => {
                let (px, py) = (x - cx, y - cy);
                let k0 = ((px / rx).powi(2) + (py / ry).powi(2)).sqrt();
                let k1 = ((px / (rx * rx)).powi(2) + (py / (ry * ry)).powi(2)).sqrt();
                if k1 == 0.0 {
                    -rx.min(ry)
                } else {
                    k0 * (k0 - 1.0) / k1
                }
            }
            Shape::Ring { cx, cy, r, half_width } => ((x - cx).hypot(y - cy) - r).abs() - half_width,
            Shape::Rect { x0, y0, x1, y1 } => {
                let dx = (x0 - x).max(x - x1);
                let dy = (y0 - y).max(y - y1);
                dx.max(dy)
            }
        }
    }

    fn coverage(&self, x: f32, y: f32) -> f32 {
        (0.5 - self.distance(x, y)).clamp(0.0, 1.0)
    }
}

struct Layer {
    shape: Shape,
    color: [f32; 3],
    opacity: f32,
    /// Darken towards the shape's edge (a hint of roundness).
    shade: f32,
}

fn layer(shape: Shape, color: [f32; 3]) -> Layer {
    Layer { shape, color, opacity: 1.0, shade: 0.0 }
}

fn scaled(color: [f32; 3], factor: f32) -> [f32; 3] {
    color.map(|c| (c * factor).min(255.0))
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

fn portrait_jpeg(person: &Person, birth_year: u32, rng: &mut StdRng) -> Vec<u8> {
    let background = if birth_year % 2 == 1 { BACKGROUND_RED } else { BACKGROUND_BLUE };
    let looks = person.looks;
    let skin = scaled(SKIN[looks.skin], rng.gen_range(0.95..1.05));
    let age = 2026 - birth_year;
    let hair = if age > 60 {
        pick(rng, &[[170.0, 170.0, 165.0], [120.0, 118.0, 115.0]])
    } else {
        pick(rng, &[[25.0, 20.0, 18.0], [40.0, 30.0, 25.0], [60.0, 45.0, 35.0]])
    };
    let cloth = pick(
        rng,
        &[[30.0, 30.0, 35.0], [235.0, 235.0, 230.0], [90.0, 40.0, 40.0], [40.0, 70.0, 60.0], [70.0, 70.0, 110.0]],
    );
    let hijab_color = pick(rng, &[[245.0, 245.0, 240.0], [20.0, 20.0, 25.0], [120.0, 60.0, 90.0], [60.0, 90.0, 140.0]]);
    let lips = scaled(skin, 0.72);
    let (cx, face_cy) = (150.0 + rng.gen_range(-6.0..6.0), 205.0 + rng.gen_range(-6.0..6.0));
    let face_half_width = rng.gen_range(60.0..70.0);
    let face_half_height = rng.gen_range(78.0..88.0);
    let eye_spacing = face_half_width * 0.38;
    let eye_y = face_cy - 2.0;

    let mut layers = vec![
        // Shoulders and neck.
        Layer { shade: 0.25, ..layer(Shape::Ellipse { cx, cy: 470.0, rx: 160.0, ry: 150.0 }, cloth) },
        layer(Shape::Rect { x0: cx - 30.0, y0: face_cy + 40.0, x1: cx + 30.0, y1: 350.0 }, scaled(skin, 0.85)),
    ];
    if looks.hijab {
        layers.push(Layer { shade: 0.2, ..layer(Shape::Ellipse { cx, cy: 330.0, rx: 125.0, ry: 90.0 }, hijab_color) });
        layers.push(Layer {
            shade: 0.2,
            ..layer(
                Shape::Ellipse { cx, cy: face_cy - 5.0, rx: face_half_width + 28.0, ry: face_half_height + 32.0 },
                hijab_color,
            )
        });
    } else {
        if person.sex == Sex::Female {
            // Long hair falls behind the shoulders.
            layers.push(layer(
                Shape::Ellipse { cx, cy: face_cy + 40.0, rx: face_half_width + 22.0, ry: face_half_height + 55.0 },
                hair,
            ));
        } else {
            layers.push(layer(
                Shape::Ellipse { cx, cy: face_cy - 10.0, rx: face_half_width + 8.0, ry: face_half_height },
                hair,
            ));
        }
        for side in [-1.0, 1.0] {
            layers.push(layer(
                Shape::Ellipse { cx: cx + side * (face_half_width - 2.0), cy: face_cy + 5.0, rx: 11.0, ry: 18.0 },
                scaled(skin, 0.92),
            ));
        }
    }
    layers.push(Layer {
        shade: 0.18,
        ..layer(Shape::Ellipse { cx, cy: face_cy, rx: face_half_width, ry: face_half_height }, skin)
    });
    if looks.hijab {
        // The hijab frames the forehead.
        layers.push(layer(
            Shape::Ellipse { cx, cy: face_cy - face_half_height + 8.0, rx: face_half_width + 4.0, ry: 40.0 },
            hijab_color,
        ));
    } else {
        let fringe = if person.sex == Sex::Female { 42.0 } else { 36.0 };
        layers.push(Layer {
            shade: 0.15,
            ..layer(
                Shape::Ellipse { cx, cy: face_cy - face_half_height + 14.0, rx: face_half_width + 6.0, ry: fringe },
                hair,
            )
        });
    }
    for side in [-1.0, 1.0] {
        let ex = cx + side * eye_spacing;
        layers.push(layer(Shape::Ellipse { cx: ex, cy: eye_y, rx: 11.0, ry: 5.0 }, [240.0, 238.0, 232.0]));
        layers.push(layer(Shape::Ellipse { cx: ex, cy: eye_y, rx: 4.5, ry: 4.5 }, [35.0, 25.0, 20.0]));
        layers.push(layer(Shape::Ellipse { cx: ex, cy: eye_y - 14.0, rx: 14.0, ry: 2.6 }, scaled(hair, 0.8)));
        if looks.glasses {
            layers.push(layer(Shape::Ring { cx: ex, cy: eye_y + 1.0, r: 17.0, half_width: 1.3 }, [30.0, 30.0, 30.0]));
        }
    }
    if looks.glasses {
        layers.push(layer(
            Shape::Rect { x0: cx - eye_spacing + 17.0, y0: eye_y - 1.0, x1: cx + eye_spacing - 17.0, y1: eye_y + 1.5 },
            [30.0, 30.0, 30.0],
        ));
    }
    layers.push(Layer {
        opacity: 0.35,
        ..layer(Shape::Ellipse { cx, cy: face_cy + 24.0, rx: 8.0, ry: 14.0 }, scaled(skin, 0.7))
    });
    layers.push(layer(Shape::Ellipse { cx, cy: face_cy + 52.0, rx: 19.0, ry: 4.5 }, lips));
    if person.sex == Sex::Male && age > 35 && rng.gen_bool(0.5) {
        layers
            .push(Layer { opacity: 0.8, ..layer(Shape::Ellipse { cx, cy: face_cy + 42.0, rx: 20.0, ry: 4.0 }, hair) });
    }

    let mut img = RgbImage::new(PHOTO_WIDTH, PHOTO_HEIGHT);
    for (x, y, pixel) in img.enumerate_pixels_mut() {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        // A studio backdrop: slightly lighter in the middle.
        let vignette = 1.0 - 0.12 * (((fx - 150.0) / 150.0).powi(2) + ((fy - 180.0) / 220.0).powi(2));
        let mut color = scaled(background, vignette);
        for layer in &layers {
            let coverage = layer.shape.coverage(fx, fy) * layer.opacity;
            if coverage <= 0.0 {
                continue;
            }
            let depth = (-layer.shape.distance(fx, fy) / 40.0).clamp(0.0, 1.0);
            let shade = 1.0 - layer.shade * (1.0 - depth);
            for (c, l) in color.iter_mut().zip(layer.color) {
                *c = *c * (1.0 - coverage) + l * shade * coverage;
            }
        }
        let grain: f32 = rng.gen_range(-2.5..2.5);
        *pixel = Rgb(color.map(|c| (c + grain).round().clamp(0.0, 255.0) as u8));
    }
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85).encode_image(&img).expect("encode JPEG");
    out
}

// ---------------------------------------------------------------------------------------------
// Signatures

/// A cursive-looking pen stroke: a line drifting right, with loops, then an underline flourish.
fn signature_png(rng: &mut StdRng) -> Vec<u8> {
    let mut points: Vec<(f32, f32)> = Vec::new();
    let loops = rng.gen_range(5..10);
    let start_x = rng.gen_range(30.0..60.0);
    let end_x = rng.gen_range(300.0..360.0);
    let base_y = rng.gen_range(70.0..90.0);
    let slant = rng.gen_range(-0.12..0.05);
    // Each loop is a letter: its height (a capital first, some descenders below the line) and
    // its width vary, so no two signatures look alike.
    let letters: Vec<(f32, f32)> = (0..=loops)
        .map(|i| {
            let height = match i {
                0 => rng.gen_range(40.0..55.0),
                _ if rng.gen_bool(0.2) => -rng.gen_range(20.0..35.0),
                _ => rng.gen_range(8.0..36.0),
            };
            (height, rng.gen_range(5.0..18.0))
        })
        .collect();
    let steps = 1600;
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        let phase = t * loops as f32 * std::f32::consts::TAU;
        let (height, width) = letters[((t * loops as f32) as usize).min(loops)];
        let x = start_x + (end_x - start_x) * t + width * phase.cos();
        let lift = if height >= 0.0 { phase.sin().max(-0.3) } else { phase.sin().min(0.3) };
        let y = base_y + slant * (x - 200.0) - height.abs() * lift;
        points.push((x, y));
    }
    // The flourish: back under the name, left to right.
    let under_y = base_y + rng.gen_range(28.0..42.0);
    let (last_x, last_y) = *points.last().expect("points");
    for i in 0..=300 {
        let t = i as f32 / 300.0;
        let x = last_x + (start_x + 10.0 - last_x) * t;
        let y = last_y + (under_y - last_y) * (t * 3.0).min(1.0) + 6.0 * (t * 9.0).sin();
        points.push((x, y));
    }

    let mut alpha = vec![0.0_f32; (SIGNATURE_WIDTH * SIGNATURE_HEIGHT) as usize];
    for window in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (window[0], window[1]);
        // Faster strokes are thinner, as with a real pen.
        let speed = (x1 - x0).hypot(y1 - y0);
        let half_width = (1.9 - speed * 0.25).clamp(0.9, 1.9);
        let (min_x, max_x) = (x0.min(x1) - 3.0, x0.max(x1) + 3.0);
        let (min_y, max_y) = (y0.min(y1) - 3.0, y0.max(y1) + 3.0);
        for py in (min_y.max(0.0) as u32)..=(max_y.min(SIGNATURE_HEIGHT as f32 - 1.0) as u32) {
            for px in (min_x.max(0.0) as u32)..=(max_x.min(SIGNATURE_WIDTH as f32 - 1.0) as u32) {
                let d = segment_distance((px as f32 + 0.5, py as f32 + 0.5), (x0, y0), (x1, y1));
                let coverage = (half_width + 0.5 - d).clamp(0.0, 1.0);
                let cell = &mut alpha[(py * SIGNATURE_WIDTH + px) as usize];
                *cell = cell.max(coverage);
            }
        }
    }
    let ink = [18, 28, 92];
    let img = RgbaImage::from_fn(SIGNATURE_WIDTH, SIGNATURE_HEIGHT, |x, y| {
        let a = alpha[(y * SIGNATURE_WIDTH + x) as usize];
        Rgba([ink[0], ink[1], ink[2], (a * 255.0).round() as u8])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&img, SIGNATURE_WIDTH, SIGNATURE_HEIGHT, image::ExtendedColorType::Rgba8)
        .expect("encode PNG");
    out
}

fn segment_distance(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (abx, aby) = (b.0 - a.0, b.1 - a.1);
    let len2 = abx * abx + aby * aby;
    let t = if len2 == 0.0 { 0.0 } else { (((p.0 - a.0) * abx + (p.1 - a.1) * aby) / len2).clamp(0.0, 1.0) };
    (p.0 - a.0 - t * abx).hypot(p.1 - a.1 - t * aby)
}

// ---------------------------------------------------------------------------------------------
// The invalid corpus

/// Where the invalid corpus says what `parse_event` must name, and whether a JSON Schema can
/// see the fault too.
struct Expectation {
    file: String,
    /// The JSON path of the field the error must name; `$` for a payload that is not a JSON
    /// object at all.
    field: &'static str,
    schema_catches: bool,
    why: &'static str,
}

#[allow(clippy::too_many_lines)]
fn write_invalid(dir: &Path, base: &Doc, rng: &mut StdRng) {
    let mut expectations: Vec<Expectation> = Vec::new();
    let mut counter = 0;
    let mut emit = |name: &str, body: &[u8], field: &'static str, schema_catches: bool, why: &'static str| {
        counter += 1;
        let file = format!("{counter:02}-{name}");
        write(&dir.join(&file), body);
        expectations.push(Expectation { file, field, schema_catches, why });
    };
    let mut variant = |edit: &dyn Fn(&mut Doc)| -> Vec<u8> {
        let mut doc = base.clone();
        doc.set("event_id", &json!(uuid_v4(rng)));
        edit(&mut doc);
        doc.render().into_bytes()
    };
    let address_with = |key: &str, value: Option<&str>, extra: Option<(&str, &str)>| {
        let mut fields: Vec<(&str, String)> = Vec::new();
        let base_address = [
            ("street", "JL. SUDIRMAN NO. 1"),
            ("rt_rw", "001/002"),
            ("village", "PASAR BANGKO"),
            ("district", "BANGKO"),
            ("regency", "MERANGIN"),
            ("province", "JAMBI"),
        ];
        for (k, v) in base_address {
            if k == key {
                if let Some(value) = value {
                    fields.push((k, value.to_owned()));
                }
            } else {
                fields.push((k, v.to_owned()));
            }
        }
        if let Some((k, v)) = extra {
            fields.push((k, v.to_owned()));
        }
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        address_json(&borrowed)
    };

    // Not an event object at all.
    emit("not-json.txt", b"This is not JSON: an upstream service sent a log line by mistake.\n", "$", true, "not JSON");
    emit("empty.json", b"", "$", true, "an empty payload");
    emit("truncated.json", &variant(&|_| {})[..400], "$", true, "JSON cut off mid-way");
    emit(
        "array.json",
        format!("[{}]", String::from_utf8(variant(&|_| {})).unwrap()).as_bytes(),
        "$",
        true,
        "an array of events instead of one event",
    );
    emit("string.json", b"\"enrollment.completed\"\n", "$", true, "a JSON string, not an object");

    // The envelope.
    emit(
        "schema-version-2.json",
        &variant(&|d| d.set("schema", &json!(2))),
        "schema",
        true,
        "a contract version this spooler does not read",
    );
    emit("schema-missing.json", &variant(&|d| d.remove("schema")), "schema", true, "no contract version");
    emit(
        "schema-as-string.json",
        &variant(&|d| d.set("schema", &json!("1"))),
        "schema",
        true,
        "the version as a string",
    );
    emit(
        "event-id-empty.json",
        &variant(&|d| d.set("event_id", &json!(""))),
        "event_id",
        true,
        "an empty idempotency key",
    );
    emit("event-id-missing.json", &variant(&|d| d.remove("event_id")), "event_id", true, "no idempotency key");
    emit(
        "type-wrong.json",
        &variant(&|d| d.set("type", &json!("enrollment.updated"))),
        "type",
        true,
        "an event type of another contract",
    );
    emit(
        "occurred-at-no-offset.json",
        &variant(&|d| d.set("occurred_at", &json!("2026-11-27 09:12:00"))),
        "occurred_at",
        true,
        "a time without a UTC offset",
    );
    emit(
        "office-not-code.json",
        &variant(&|d| d.set("office", &json!("MERANGIN"))),
        "office",
        true,
        "an office name instead of its code",
    );
    emit(
        "priority-high.json",
        &variant(&|d| d.set("priority", &json!("high"))),
        "priority",
        true,
        "a priority outside the vocabulary",
    );
    emit(
        "template-bad-name.json",
        &variant(&|d| d.set("template", &json!("E-KTP 2026!"))),
        "template",
        true,
        "a template name with capitals and spaces",
    );
    emit(
        "unknown-field.json",
        &variant(&|d| d.set("email", &json!("someone@example.org"))),
        "email",
        true,
        "a field the contract does not have",
    );

    // The NIK.
    emit("nik-15-digits.json", &variant(&|d| d.set("nik", &json!("150201520385001"))), "nik", true, "one digit short");
    emit(
        "nik-17-digits.json",
        &variant(&|d| d.set("nik", &json!("15020152038500011"))),
        "nik",
        true,
        "one digit too many",
    );
    emit(
        "nik-letter-o.json",
        &variant(&|d| d.set("nik", &json!("15020152038500O1"))),
        "nik",
        true,
        "a letter O for a zero",
    );
    emit(
        "nik-as-number.json",
        &variant(&|d| d.set_raw("nik", "1502015203850001")),
        "nik",
        true,
        "the NIK as a JSON number (leading zeros and precision are lost that way)",
    );
    emit("nik-day-32.json", &variant(&|d| d.set("nik", &json!("1502013203850001"))), "nik", true, "day 32 (a man)");
    emit(
        "nik-day-85.json",
        &variant(&|d| d.set("nik", &json!("1502018503850001"))),
        "nik",
        true,
        "day 85: neither a man's day (01-31) nor a woman's (41-71)",
    );
    emit(
        "nik-30-february.json",
        &variant(&|d| d.set("nik", &json!("1502017002850001"))),
        "nik",
        false,
        "30 February (day 70 - 40), a date no calendar has",
    );
    emit("nik-month-13.json", &variant(&|d| d.set("nik", &json!("1502015213850001"))), "nik", true, "month 13");
    emit(
        "nik-serial-0000.json",
        &variant(&|d| d.set("nik", &json!("1502015203850000"))),
        "nik",
        true,
        "serial 0000 is never issued",
    );
    emit("nik-missing.json", &variant(&|d| d.remove("nik")), "nik", true, "no NIK");

    // Names and text.
    emit(
        "name-61-chars.json",
        &variant(&|d| d.set("name", &json!("RADEN RORO KUSUMANINGTYAS SEKARWANGI PURBANINGRUM HADININGRAT"))),
        "name",
        true,
        "61 characters, one more than a card holds",
    );
    emit("name-with-digits.json", &variant(&|d| d.set("name", &json!("HAMIDAH 2"))), "name", true, "a digit in a name");
    emit("name-blank.json", &variant(&|d| d.set("name", &json!("   "))), "name", true, "a name of spaces");
    emit(
        "name-line-break.json",
        &variant(&|d| d.set("name", &json!("HAMIDAH\nBINTI AHMAD"))),
        "name",
        true,
        "a line break",
    );
    emit("name-missing.json", &variant(&|d| d.remove("name")), "name", true, "no name");
    emit(
        "occupation-tab.json",
        &variant(&|d| d.set("occupation", &json!("WIRASWASTA\tPEDAGANG"))),
        "occupation",
        true,
        "a tab in card text",
    );

    // Vocabularies.
    emit("sex-p.json", &variant(&|d| d.set("sex", &json!("P"))), "sex", true, "an abbreviation");
    emit("sex-lowercase.json", &variant(&|d| d.set("sex", &json!("perempuan"))), "sex", true, "lower case");
    emit(
        "blood-type-o-plus.json",
        &variant(&|d| d.set("blood_type", &json!("O+"))),
        "blood_type",
        true,
        "a rhesus factor the card has no room for",
    );
    emit(
        "religion-muslim.json",
        &variant(&|d| d.set("religion", &json!("MUSLIM"))),
        "religion",
        true,
        "not the registry's word",
    );
    emit(
        "marital-status-menikah.json",
        &variant(&|d| d.set("marital_status", &json!("MENIKAH"))),
        "marital_status",
        true,
        "a synonym outside the vocabulary",
    );
    emit(
        "citizenship-indonesia.json",
        &variant(&|d| d.set("citizenship", &json!("INDONESIA"))),
        "citizenship",
        true,
        "a country, not WNI/WNA",
    );

    // Dates.
    emit(
        "birth-date-dd-mm-yyyy.json",
        &variant(&|d| d.set("birth_date", &json!("12-03-1985"))),
        "birth_date",
        true,
        "the card's date order instead of ISO 8601",
    );
    emit(
        "birth-date-30-february.json",
        &variant(&|d| d.set("birth_date", &json!("1985-02-30"))),
        "birth_date",
        true,
        "a day February does not have",
    );
    emit(
        "birth-date-after-enrollment.json",
        &variant(&|d| d.set("birth_date", &json!("2027-01-01"))),
        "birth_date",
        false,
        "born after the enrollment",
    );
    emit(
        "valid-until-garbage.json",
        &variant(&|d| d.set("valid_until", &json!("SELAMANYA"))),
        "valid_until",
        true,
        "neither a date nor SEUMUR HIDUP",
    );
    emit(
        "valid-until-before-enrollment.json",
        &variant(&|d| {
            d.set("citizenship", &json!("WNA"));
            d.set("valid_until", &json!("2026-01-31"));
        }),
        "valid_until",
        false,
        "a card that expired before it was enrolled",
    );
    emit(
        "wna-lifetime.json",
        &variant(&|d| d.set("citizenship", &json!("WNA"))),
        "valid_until",
        true,
        "a foreigner's card valid for life (it ends with the residence permit)",
    );

    // The address.
    emit(
        "rt-rw-short.json",
        &variant(&|d| d.set_raw("address", &address_with("rt_rw", Some("1/2"), None))),
        "address.rt_rw",
        true,
        "RT/RW without the leading zeros",
    );
    emit(
        "address-no-village.json",
        &variant(&|d| d.set_raw("address", &address_with("village", None, None))),
        "address.village",
        true,
        "an address without its village",
    );
    emit(
        "address-unknown-field.json",
        &variant(&|d| d.set_raw("address", &address_with("", None, Some(("postal_code", "37311"))))),
        "address.postal_code",
        true,
        "a field the address does not have",
    );
    emit(
        "address-as-string.json",
        &variant(&|d| d.set("address", &json!("JL. SUDIRMAN NO. 1, BANGKO"))),
        "address",
        true,
        "the address as one line",
    );

    // Images.
    let jpeg =
        base64::engine::general_purpose::STANDARD.decode(base.get("photo").as_str().expect("photo")).expect("base64");
    let png = base64::engine::general_purpose::STANDARD
        .decode(base.get("signature").as_str().expect("signature"))
        .expect("base64");
    emit(
        "photo-not-base64.json",
        &variant(&|d| d.set("photo", &json!("data:image/jpeg;base64,/9j/4AAQ"))),
        "photo",
        true,
        "a data URL, not bare base64",
    );
    emit(
        "photo-text.json",
        &variant(&|d| d.set("photo", &json!(base64(b"photo to follow")))),
        "photo",
        true,
        "base64 of text, not an image",
    );
    emit(
        "photo-truncated-jpeg.json",
        &variant(&|d| d.set("photo", &json!(base64(&jpeg[..jpeg.len() / 3])))),
        "photo",
        false,
        "a JPEG cut off after a third",
    );
    emit(
        "photo-9000x9000-jpeg.json",
        &variant(&|d| d.set("photo", &json!(base64(&jpeg_claiming(&jpeg, 9000, 9000))))),
        "photo",
        false,
        "a JPEG header claiming 81 megapixels",
    );
    emit(
        "photo-png-bomb.json",
        &variant(&|d| d.set("photo", &json!(base64(&png_bomb(60_000, 60_000))))),
        "photo",
        false,
        "a decompression bomb: a 200-byte PNG claiming 60000x60000 pixels",
    );
    emit(
        "photo-over-1-mib.json",
        &variant(&|d| {
            let mut padded = jpeg.clone();
            // 3 bytes over: base64 counts in groups of 3 bytes, so the schema's maxLength sees it too.
            padded.resize(1024 * 1024 + 3, 0);
            d.set("photo", &json!(base64(&padded)));
        }),
        "photo",
        true,
        "a photo over the 1 MiB limit",
    );
    emit("photo-missing.json", &variant(&|d| d.remove("photo")), "photo", true, "no photo");
    emit(
        "signature-jpeg.json",
        &variant(&|d| d.set("signature", &json!(base64(&jpeg)))),
        "signature",
        true,
        "a signature as JPEG (it must be PNG, for its transparency)",
    );
    emit(
        "signature-png-bomb.json",
        &variant(&|d| d.set("signature", &json!(base64(&png_bomb(60_000, 60_000))))),
        "signature",
        false,
        "a decompression bomb as the signature",
    );
    emit(
        "signature-corrupt-png.json",
        &variant(&|d| {
            let mut broken = png.clone();
            let middle = broken.len() / 2;
            for byte in &mut broken[middle..middle + 64] {
                *byte ^= 0x5A;
            }
            d.set("signature", &json!(base64(&broken)));
        }),
        "signature",
        false,
        "a PNG with damaged data",
    );
    // Added later: appended so that earlier files keep their numbers.
    emit(
        "occurred-at-space-separator.json",
        &variant(&|d| d.set("occurred_at", &json!("2026-11-27 09:12:00+07:00"))),
        "occurred_at",
        true,
        "a space instead of the T between date and time",
    );
    emit(
        "birth-place-trailing-newline.json",
        &variant(&|d| d.set("birth_place", &json!("BANGKO\n"))),
        "birth_place",
        true,
        "a line break left at the end of a text field",
    );
    emit("nik-region-00.json", &variant(&|d| d.set("nik", &json!("1500015203850001"))), "nik", true, "regency code 00");

    let mut manifest = String::from(
        "# The invalid-event corpus: for each file, the field `parse_event` must name in its error\n\
         # (a JSON path; \"$\" = the payload as a whole, when it is not a JSON object), whether the\n\
         # JSON Schema (schemas/enrollment-event.v1.json) refuses it too (`schema = false` marks a\n\
         # rule a schema cannot express), and why the event is bad.\n\
         # Generated by `cargo run --example generate_samples`: edit that program, not this file.\n",
    );
    for e in &expectations {
        writeln!(manifest, "\n[{:?}]\nfield = {:?}\nschema = {}\nwhy = {:?}", e.file, e.field, e.schema_catches, e.why)
            .expect("string");
    }
    write(&dir.join("expected.toml"), manifest.as_bytes());
}

/// A copy of `jpeg` whose frame header (SOF0/SOF2) claims other dimensions.
fn jpeg_claiming(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let mut i = 2;
    while i + 9 < out.len() {
        assert_eq!(out[i], 0xFF, "JPEG marker expected");
        let marker = out[i + 1];
        let length = usize::from(u16::from_be_bytes([out[i + 2], out[i + 3]]));
        if marker == 0xC0 || marker == 0xC2 {
            out[i + 5..i + 7].copy_from_slice(&height.to_be_bytes());
            out[i + 7..i + 9].copy_from_slice(&width.to_be_bytes());
            return out;
        }
        i += 2 + length;
    }
    panic!("no SOF marker in the JPEG");
}

/// A small PNG whose header claims `width` x `height` RGB pixels, with a valid zlib stream of a
/// few zero rows: decoding it would allocate gigabytes before finding the data short.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(&kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    chunk(&mut out, *b"IHDR", &ihdr);
    // zlib, one stored (uncompressed) deflate block of 128 zero bytes.
    let raw = [0_u8; 128];
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    zlib.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    chunk(&mut out, *b"IDAT", &zlib);
    chunk(&mut out, *b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1_u32, 0_u32);
    for &byte in bytes {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}
