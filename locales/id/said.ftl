# Teks yang disimpan spooler (alasan, catatan audit, galat jawaban API), ditulis dalam bahasa
# Inggris dan ditampilkan dalam bahasa pembaca. Lihat ../en/said.ftl.

## Penerimaan
said-received = data perekaman diterima; menunggu otorisasi cetak dari pusat
said-received-with-warnings = data perekaman diterima dengan catatan: { $warnings }; menunggu otorisasi cetak dari pusat
said-nik-birth-date = NIK menyatakan tanggal lahir { $nik_date }, data perekaman menyatakan { $date }
said-nik-sex = NIK menyatakan jenis kelamin { $nik_sex }, data perekaman menyatakan { $sex }

## Jawaban pusat
said-central-authorized = sudah diotorisasi pusat (otorisasi { $id }, berlaku sampai { $until })
said-central-expired = otorisasi pusat { $id } sudah kedaluwarsa ({ $at }): meminta otorisasi baru
said-central-pending = data belum selesai diverifikasi pusat (tertunda)
said-central-denied = pusat menolak pencetakan: { $why }
said-central-bad-credentials = pusat menolak kredensial kantor ini (HTTP 401: { $detail }): ditahan sampai kredensial diperbaiki
said-central-rate-limited = pusat meminta kantor ini memperlambat permintaan (HTTP 429)
said-central-unreachable = pusat tidak dapat dihubungi: { $detail }
said-central-malformed = jawaban pusat tidak dapat dipakai: { $detail }
said-waiting-central-down = { $why }; menunggu pusat (terputus sejak { $since }), pemeriksaan berikutnya { $at }
said-asking-again = { $why }; ditanyakan lagi pada { $at }
said-event-unreadable-for-central = data perekaman pekerjaan ini tidak dapat dibaca untuk ditanyakan ke pusat ({ $detail }); perlu petugas
said-awaiting-central = menunggu otorisasi cetak dari pusat
said-awaiting-central-down = menunggu otorisasi cetak dari pusat (jaringan ke pusat terputus sejak { $since })
said-awaiting-central-credentials = menunggu otorisasi cetak dari pusat (pusat menolak kredensial kantor ini sejak { $since })

## Keadaan pusat
said-central-not-contacted = pusat belum dihubungi
said-central-up-since = pusat tersambung sejak { $since }
said-central-degraded-since = pusat terganggu sejak { $since }
said-central-down-since = pusat tidak dapat dihubungi sejak { $since }
said-central-credentials-since = pusat menolak kredensial kantor ini sejak { $since }
said-central-last-error = { $situation } (galat terakhir: { $error })
said-central-next-check = { $situation }; pemeriksaan berikutnya { $at }
said-central-cards-waiting = { $situation }; { $count } kartu menunggu
said-central-oldest = { $situation }, yang terlama sejak { $since }

## Pemeriksaan otorisasi sebelum mencetak
said-no-central-key = kunci publik pusat belum diatur: otorisasi tidak dapat diperiksa
said-authorization-unreadable = otorisasi tidak dapat dibaca: { $detail }
said-authorization-unknown-key = otorisasi ditandatangani dengan kunci { $got }, sedangkan kunci pusat yang diatur adalah { $expected } (periksa [central] public_key)
said-authorization-bad-signature = tanda tangan otorisasi tidak cocok dengan kunci pusat yang diatur
said-authorization-wrong-nik = otorisasi ini untuk NIK lain
said-authorization-wrong-enrollment = otorisasi ini untuk perekaman lain ({ $got })
said-authorization-wrong-card = otorisasi ini untuk kartu lain: datanya (nama, foto, tanda tangan, ...) berbeda dari yang diotorisasi pusat
said-authorization-wrong-office = otorisasi diterbitkan untuk kantor { $got }, bukan kantor ini
said-authorization-expired = otorisasi kedaluwarsa pada { $at }
said-cannot-print-on-authorization = tidak dapat dicetak dengan otorisasi ini: { $problem }

## Penyusunan kartu
said-event-no-longer-validates = data perekaman tidak lagi lolos pemeriksaan: { $error }
said-cannot-render-card = kartu tidak dapat disusun: { $error }
said-cannot-render-test-card = kartu uji tidak dapat disusun dengan templat { $template }: { $error }
said-cannot-read-event = data perekaman tidak dapat dibaca dari jurnal: { $error }
said-renderer-crashed = penyusun kartu mogok: { $error }
said-cannot-write-spool = berkas cetak tidak dapat ditulis ke spool: { $error }
said-rendered = siap cetak ({ $bytes } bita)
said-render-again = menunggu disusun ulang: { $why }
said-cannot-render = tidak dapat disusun: { $why }

## Pencetakan
said-unknown-template = templat { $template } tidak dikenal: tidak ada kelompok printer
said-sent-to = dikirim ke { $printer }
said-not-taken = tidak diterima oleh { $printer }: { $error }
said-printed-on = dicetak di { $printer }
said-cancelled-at = dibatalkan di { $printer }
said-aborted-staff-decide = dihentikan oleh { $printer } ({ $cause }); { $spoiled } blangko rusak: petugas memutuskan
said-aborted-blank-spoiled = dihentikan oleh { $printer } ({ $cause }, blangko rusak): kembali ke antrean
said-aborted-no-blank-used = dihentikan oleh { $printer } ({ $cause }, tidak ada blangko terpakai): kembali ke antrean
said-aborted = dihentikan oleh { $printer }: { $cause }
said-printer-silent = { $printer } tidak menjawab selama { $seconds } detik saat mencetak ({ $detail }); belum pasti apakah kartu tercetak
said-printer-has-no-record = { $printer } tidak punya catatan pekerjaan ini (tidak pernah menerimanya, atau sudah melupakannya)
said-printer-lost-track = { $printer } kehilangan jejak pekerjaan ini ({ $detail })
said-left-printing-no-printer = tertinggal dalam status sedang dicetak tanpa catatan printer
said-left-printing-unconfigured = tertinggal dalam status sedang dicetak di { $printer }, yang tidak lagi diatur

## Gangguan printer
said-fault-media-jam = kartu macet
said-fault-hopper-empty = blangko habis di printer
said-fault-ribbon-empty = pita habis
said-fault-cover-open = penutup printer terbuka
said-fault-offline = printer mati (offline)
said-fault-unreachable = printer tidak dapat dihubungi: { $detail }
said-fault-stopped = printer berhenti: { $detail }
said-printer-faulted = terganggu: { $faults }
said-printer-not-checked = belum diperiksa
said-printer-busy = sibuk dengan { $count } dari { $max } pekerjaan
said-printer-ready = siap
said-printer-paused-by = dijeda oleh { $staff }
said-printer-paused-by-because = dijeda oleh { $staff }: { $typed }

## Tindakan petugas (kata-kata jejak audit)
said-action-held = ditahan
said-action-released = dilepas
said-action-cancelled = dibatalkan
said-action-retried = dicoba lagi
said-action-reprint-ordered = cetak ulang diminta
said-action-marked-spoiled = ditandai kartu rusak
said-action-resolved = diselesaikan
said-outcome-printed = sudah dicetak
said-outcome-not-printed = tidak tercetak
said-outcome-spoiled = kartu rusak
said-resolved-by = diselesaikan oleh { $staff } sebagai { $outcome }
said-resolved-by-because = diselesaikan oleh { $staff } sebagai { $outcome }: { $typed }
said-action-by = { $action } oleh { $staff }
said-action-by-because = { $action } oleh { $staff }: { $typed }

## Mengapa kartu belum punya perkiraan
said-no-printer-pool = templatnya tidak punya kelompok printer
said-no-printer-up = tidak ada printer di kelompok { $pool } yang sedang bisa mencetak
said-pool-idle = kelompok printer { $pool } tidak mencetak satu kartu pun dalam { $hours } jam terakhir
said-central-is-down = jaringan ke pusat terputus
said-central-refuses-credentials = pusat menolak kredensial kantor ini
said-central-not-running = otorisasi pusat tidak berjalan di spooler ini

## Galat yang ditemui petugas (jawaban API atas tindakan)
said-api-unauthenticated = diperlukan token petugas yang sah (Authorization: Bearer <token>)
said-api-no-tokens = spooler ini belum punya token petugas: tambahkan [[api.tokens]] ke konfigurasinya lalu mulai ulang
said-api-too-many = { $what }: coba lagi dalam { $seconds } detik
said-api-wrong-tokens = terlalu banyak token salah dari alamat ini
said-api-nik-search-limit = { $staff } sudah { $count } kali mencari dengan NIK lengkap dalam satu jam terakhir, batasnya
said-api-forbidden = { $action } memerlukan peran { $needed }; { $staff } berperan { $has }
said-role-viewer = pemantau
said-role-operator = operator
said-role-supervisor = penyelia
said-api-no-route = tidak ada rute API tersebut
said-no-job = tidak ada pekerjaan cetak { $job }
said-no-printer = tidak ada printer { $printer }
said-job-moved = pekerjaan cetak { $job } tidak lagi { $expected } (sekarang { $actual }): sudah dipindahkan orang lain
said-illegal-transition = pekerjaan cetak tidak dapat berpindah dari { $from } ke { $to }
said-illegal-transition-without-staff = pekerjaan cetak tidak dapat berpindah dari { $from } ke { $to } tanpa petugas
said-reason-too-long = alasan lebih dari { $max } karakter
said-reason-one-line = alasan harus satu baris teks
said-reason-one-line-at-most = alasan harus satu baris, paling banyak { $max } karakter
said-action-needs-reason = { $action } memerlukan alasan
said-only-resolve-takes-outcome = hanya penyelesaian (resolve) yang memakai hasil cetak
said-resolve-needs-outcome = penyelesaian memerlukan hasil: printed (sudah dicetak), not_printed (tidak tercetak) atau spoiled (kartu rusak)
said-not-held = pekerjaan cetak { $job } berstatus { $state }, tidak ditahan
said-held-from-unknown = pekerjaan cetak { $job } ditahan, tetapi status asalnya tidak diketahui
said-retry-refused = pekerjaan cetak { $job } berstatus { $state }: coba lagi hanya untuk pekerjaan yang gagal atau ditolak
said-retry-refused-reprint = pekerjaan cetak { $job } berstatus { $state }: coba lagi hanya untuk pekerjaan yang gagal atau ditolak (kartu yang sudah dicetak memerlukan cetak ulang)
said-reprint-refused = pekerjaan cetak { $job } berstatus { $state }: hanya kartu yang sudah dicetak atau rusak yang dapat dicetak ulang
said-spoiled-refused = pekerjaan cetak { $job } berstatus { $state }: hanya kartu yang sudah dicetak yang dapat ditandai rusak
said-spoiled-refused-printing = pekerjaan cetak { $job } berstatus { $state }: hanya kartu yang sudah dicetak yang dapat ditandai rusak (tunggu printer selesai)
said-spoiled-refused-unknown = pekerjaan cetak { $job } berstatus { $state }: hanya kartu yang sudah dicetak yang dapat ditandai rusak (selesaikan pekerjaan yang belum pasti dengan hasil spoiled)
said-resolve-refused = pekerjaan cetak { $job } berstatus { $state }: hanya pekerjaan yang belum pasti (unknown) yang diselesaikan
said-payload-purged = pekerjaan cetak { $job }: data kartunya (foto, tanda tangan, alamat) sudah dihapus pada { $day } ketika masa simpannya ([journal] payload_retention_days) berakhir, sehingga kartu tidak dapat disusun lagi: minta sistem perekaman mengirim ulang data perekaman sebagai kejadian baru
said-printing-not-running = pencetakan tidak berjalan di spooler ini
said-rendering-not-running = penyusunan kartu tidak berjalan di spooler ini
said-central-off = otorisasi pusat tidak berjalan di spooler ini: { $why }
said-test-card-not-ready = printer { $printer } tidak dapat menerima kartu sekarang ({ $status }); coba lagi setelah siap
said-test-card-no-template = tidak ada templat yang mencetak ke kelompok { $pool }: tidak ada tata letak untuk diuji
said-test-card-cannot-be-made = kartu uji tidak dapat dibuat: { $error }
said-load-cards-range = jumlah kartu harus 1 sampai { $max }
said-day-format = { $name } { $date }: gunakan YYYY-MM-DD
said-report-format = format { $format }: gunakan pdf atau csv
said-day-order = tanggal from { $from } sesudah tanggal to { $to }
said-ledger-days = paling banyak { $max } hari sekaligus

## Mengapa data perekaman ditolak (alasan di antrean surat mati, per kolom)
said-event-not-json = isi pesan bukan JSON: { $error }
said-event-not-object = isi pesan bukan objek JSON
said-event-too-large = isi pesan { $bytes } bita, melebihi batas { $limit }
said-event-duplicate-key = isi pesan memuat kunci { $key } dua kali dalam satu objek
said-event-check-failed = spooler gagal saat memeriksa data perekaman ini ({ $error }); kirim ulang setelah masalahnya diperbaiki
said-field-problem = kolom { $field }: { $problem }
said-respelled = kolom { $field }: { $value } dibaca sebagai { $card }
said-field-not-in-contract = bukan kolom kontrak data (periksa ejaannya)
said-field-not-in-contract-more = bukan kolom kontrak data, begitu pula { $count } kolom lainnya
said-field-required = wajib diisi
said-field-must-be-string = harus berupa teks, ternyata { $got }
said-field-control-characters = tidak boleh berisi karakter kendali (ganti baris, tab)
said-field-empty = tidak boleh kosong
said-field-too-long = paling banyak { $max } karakter, ternyata { $count }
said-field-one-of = harus salah satu dari { $values }, ternyata { $got }
said-field-date = harus tanggal berformat YYYY-MM-DD, ternyata { $got }
said-field-larger-than = lebih besar dari { $bytes } bita
said-field-not-base64 = bukan base64 yang sah (alfabet standar, dengan padding)
said-field-must-be-number = harus angka { $value }, ternyata { $got }
said-field-must-be = harus { $value }, ternyata { $got }
said-field-time = harus waktu RFC 3339 dengan zona waktu, ternyata { $got }
said-field-office = harus kode kabupaten/kota kantor (4 angka), ternyata { $got }
said-field-template = harus 1-32 karakter a-z, 0-9, '-', '_', ternyata { $got }
said-field-name-letters = hanya boleh berisi huruf (dengan tanda aksennya), spasi dan . , ' ` ’ -
said-field-before-1900 = sebelum tahun 1900
said-field-after-enrollment = sesudah waktu perekaman (occurred_at)
said-field-valid-until = harus tanggal berformat YYYY-MM-DD atau "SEUMUR HIDUP", ternyata { $got }
said-field-wna-lifetime = untuk kewarganegaraan WNA harus tanggal akhir izin tinggal, bukan "SEUMUR HIDUP"
said-field-expired-when-printed = sebelum waktu perekaman (occurred_at): kartu sudah habis berlaku saat dicetak
said-field-must-be-object = harus berupa objek, ternyata { $got }
said-field-rt-rw = harus NNN/NNN (misalnya "001/002"), ternyata { $got }
said-image-too-many-bytes = berukuran { $bytes } bita, melebihi batas { $limit }
said-image-not-jpeg-or-png = bukan gambar JPEG maupun PNG
said-image-unreadable = tidak dapat dibaca sebagai { $format }: { $error }
said-image-too-many-pixels = berukuran { $size } piksel, melebihi batas { $limit } piksel
said-image-no-pixels = tidak punya piksel
said-image-undecodable = tidak dapat diurai sebagai { $format }: { $error }
said-image-truncated = JPEG terpotong (tidak ada penanda akhir gambar setelah data gambar)
said-nik-length = harus tepat 16 angka, ternyata { $count } karakter
said-nik-digits = hanya boleh berisi angka 0-9
said-nik-region = kode wilayah { $code } bukan kode provinsi/kabupaten/kecamatan yang ada (00)
said-nik-birth-part = bagian tanggal lahir { $part } bukan tanggal (DDMMYY, tanggal 01-31 untuk laki-laki atau 41-71 untuk perempuan)
said-nik-serial = nomor urut 0000 tidak pernah diterbitkan
said-json-null = null (kosong)
said-json-boolean = nilai benar/salah
said-json-number = angka
said-json-string = teks
said-json-array = larik
said-json-object = objek
said-unknown-state = status pekerjaan { $given } tidak dikenal; status yang ada: { $states }

## Peringatan untuk petugas
said-central-credentials-alert = pusat menolak kredensial kantor ini (HTTP 401: { $detail }). Tidak ada otorisasi yang diminta sampai ini diperbaiki: periksa [central] office dan pendaftaran kantor ini di pusat. cardspool memeriksa lagi setiap { $minutes } menit, dan segera bila petugas meminta pemeriksaan atau spooler dimulai ulang dengan konfigurasi [central] yang diubah.
said-status-events-unroutable = tidak ada antrean yang terikat ke exchange { $exchange } untuk routing key { $routing_key }: sistem hulu perlu mengikatnya (ke card.#); sampai saat itu kabar status menunggu di jurnal

## Catatan untuk tindakan yang tidak perlu dikerjakan
said-already-held = sudah ditahan
said-already-cancelled = sudah dibatalkan
said-central-asked-now = pusat sedang ditanya sekarang
said-central-flowing = permintaan ke pusat sudah berjalan lancar: tidak ada yang perlu diperiksa
said-ledger-printed-spoiled = kartu yang sudah dicetak dicatat rusak di buku blangko
said-ledger-no-printed-card = tidak ada kartu tercetak dari pekerjaan ini di buku blangko
said-ledger-no-card-in-doubt = tidak ada kartu belum pasti dari pekerjaan ini di buku blangko
said-ledger-printed = kartu dicatat sudah dicetak di buku blangko
said-ledger-spoiled = kartu dicatat rusak di buku blangko
said-ledger-not-fed = kartu dicatat tidak masuk printer (tidak ada blangko terpakai) di buku blangko

## Galat printer dan konfigurasi spooler, sebagaimana dilihat petugas
said-printer-error-unreachable = printer tidak dapat dihubungi: { $detail }
said-printer-error-doubtful = tidak ada jawaban yang dapat dipakai dari printer (mungkin printer sudah menjalankan permintaan): { $detail }
said-printer-error-busy = printer sedang mengerjakan pekerjaan lain
said-printer-error-no-job = printer tidak punya pekerjaan { $job }
said-central-key-missing = central.public_key belum diatur
said-central-key-demo = central.public_key adalah kunci demo yang diterbitkan (siapa pun dapat menandatangani dengannya): atur kunci milik registri, atau biarkan simulator di docker-compose.yml membuatnya
