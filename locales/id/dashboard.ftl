# Teks dashboard spooler. Setiap pesan punya kembaran dalam bahasa lain (diperiksa oleh tes).
# Halaman mengisi { $variabel } sendiri (src/http/dashboard.rs mengirimnya sebagai {nama}), jadi
# tanpa selektor di sini: jumlah ditulis dengan dua pesan, -one dan -many.

dash-title = cardspool — ruang cetak KTP-el
dash-heading = cardspool — ruang cetak KTP-el
dash-language = Bahasa
dash-token-label = Token API
dash-token-placeholder = token petugas
dash-token-use = Pakai token
dash-updated = diperbarui { $when }
dash-token-refused = Token ditolak oleh API: masukkan token petugas di atas.
dash-cannot-read = Keadaan spooler tidak dapat dibaca: { $error }

dash-cards-one = 1 kartu
dash-cards-many = { $count } kartu
dash-blanks-one = 1 blangko
dash-blanks-many = { $count } blangko
dash-events-one = 1 event
dash-events-many = { $count } event
dash-deliveries-one = 1 kiriman
dash-deliveries-many = { $count } kiriman

dash-waiting-heading = Yang menunggu, dan sebabnya
dash-waiting-authorization-none = Tidak ada kartu yang menunggu otorisasi cetak dari pusat.
dash-waiting-printing-none = Tidak ada kartu yang menunggu printer.
dash-waiting-staff-none = Tidak ada kartu yang menunggu petugas.
dash-waiting-authorization = { $cards } menunggu otorisasi cetak dari pusat
dash-waiting-printing = { $cards } menunggu printer
dash-waiting-staff = { $cards } menunggu petugas (gagal, belum pasti, atau ditahan)
dash-waiting-since = { $waiting }, yang terlama diterima { $when }.
dash-waiting-now = { $waiting }.
dash-central = Pusat: { $summary }.
dash-central-alert = Perlu petugas: { $alert }
dash-central-off = Otorisasi cetak dari pusat tidak berjalan di spooler ini: tidak ada kartu yang diotorisasi atau dicetak.
dash-central-off-because = Otorisasi cetak dari pusat tidak berjalan di spooler ini: tidak ada kartu yang diotorisasi atau dicetak ({ $reason }).
dash-status-events-held = Kabar status ke sistem perekaman tertahan sejak { $since }: { $reason } ({ $count } belum terkirim).

dash-states-heading = Pekerjaan cetak menurut status
dash-col-state = status
dash-col-count = jumlah
dash-col-oldest = diterima paling awal
dash-total = Seluruhnya:

dash-printers-heading = Printer
dash-col-printer = printer
dash-col-pool = kelompok
dash-col-status = keadaan
dash-col-in-flight = tugas
dash-col-blanks = blangko
dash-printing-off = Pencetakan tidak berjalan di spooler ini.
dash-no-printers = Belum ada printer yang diatur.
dash-load-blanks-into = Isi blangko: { $printers }.
dash-blanks-left = { $printer } (sisa { $blanks })
dash-blanks-left-reserve = { $printer } (sisa { $blanks }, hanya untuk kartu mendesak)
dash-printer-ready = siap
dash-printer-faulted = bermasalah
dash-printer-paused = dijeda
dash-printer-unchecked = belum diperiksa
dash-printer-faults = { $status }: { $faults }
dash-printer-faults-since = { $status }: { $faults } sejak { $since }
dash-printer-paused-by = { $status } (dijeda oleh { $by } sejak { $since })
dash-printer-paused-by-because = { $status } (dijeda oleh { $by } sejak { $since }: { $reason })
dash-blanks-not-counted = belum dihitung
dash-blanks-low = { $blanks } (menipis: isi blangko)
dash-blanks-reserve = { $blanks } (cadangan: hanya kartu mendesak)

dash-staff-heading = Perlu petugas
dash-staff-heading-note = (gagal, belum pasti, ditahan)
dash-col-job = pekerjaan
dash-col-name = nama
dash-col-nik = NIK
dash-col-why = alasan
dash-col-since = sejak
dash-col-act = tindakan
dash-staff-none = Tidak ada pekerjaan cetak yang perlu ditangani petugas.
dash-staff-terminal = Hal yang sama dari terminal:

dash-find-heading = Cari pekerjaan cetak
dash-find-heading-note = (nama, NIK, id event, atau id pekerjaan)
dash-find-placeholder = mis. HAMIDAH, 1502015203850001, id pekerjaan
dash-find-any-state = semua status
dash-find-button = Cari
dash-find-none = Tidak ada pekerjaan cetak yang cocok.
dash-find-one = 1 pekerjaan cetak.
dash-find-many = { $count } pekerjaan cetak, yang terbaru lebih dulu.
dash-find-more = Lebih dari { $count } pekerjaan cetak, yang terbaru lebih dulu.
dash-find-failed = Pencarian gagal: { $error }

dash-report-heading = Laporan harian
dash-report-about = Satu hari per printer (kartu tercetak, kartu rusak, kartu uji, blangko diisi dan sisanya) dan per pekerjaan cetak, dengan jumlah kartu tercetak per jam dan tempat tanda tangan penyelia.
dash-report-day = Tanggal
dash-report-pdf = PDF
dash-report-csv = CSV
dash-report-saved = Laporan harian disimpan sebagai { $file }.
dash-report-failed = Laporan harian tidak dapat dibuat: { $error }

dash-templates-heading = Templat kartu
dash-col-template = templat
dash-col-title = judul
dash-col-size = ukuran
dash-template-size-one = { $width } × { $height } mm, 1 sisi
dash-template-size-many = { $width } × { $height } mm, { $sides } sisi
dash-templates-none = Belum ada templat kartu yang dimuat.
dash-template-not-loaded = Tidak dimuat: { $error }
dash-preview-failed = Pratinjau { $template } tidak tersedia: { $error }

dash-rejections-heading = Penolakan terakhir
dash-rejections-heading-note = (event yang ditolak saat diterima, ada di antrean dead-letter)
dash-rejections-counts = { $events } ditolak, { $deliveries } seluruhnya.
dash-col-last-seen = terakhir datang
dash-col-event = event
dash-col-times = kali
dash-no-event-id = (tanpa id event)

dash-action-hold = tahan
dash-action-release = lepaskan
dash-action-cancel = batalkan
dash-action-retry = coba lagi
dash-action-reprint = cetak ulang
dash-action-spoiled = kartu rusak
dash-action-resolve = tetapkan hasil
dash-action-estimate = kapan selesai?
dash-action-slip = tanda bukti
dash-action-pause = jeda
dash-action-resume = lanjutkan
dash-action-test-card = kartu uji
dash-action-load-blanks = isi blangko
dash-action-preview = pratinjau

dash-help-hold = Pekerjaan cetak berhenti di tempatnya sampai ada petugas yang melepaskannya.
dash-help-release = Pekerjaan cetak kembali ke tahap saat ia ditahan.
dash-help-cancel = Pekerjaan cetak selesai tanpa kartu. Tidak dapat dibatalkan kembali.
dash-help-retry = Pekerjaan cetak meminta otorisasi cetak dari pusat lagi dan, setelah diotorisasi, dicetak.
dash-help-reprint = Kartu baru dicetak untuk pemohon ini, memakai satu blangko lagi.
dash-help-spoiled = Kartu yang sudah dicetak tidak layak pakai: blangkonya dicatat sebagai kartu rusak di buku blangko.
dash-help-resolve = Periksa printer dulu: nyatakan apa yang terjadi pada kartu yang belum pasti itu.

dash-act-title = { $action }: pekerjaan { $job } ({ $name })
dash-act-outcome = Apa yang keluar dari printer
dash-outcome-choose = pilih…
dash-outcome-printed = kartu tercetak dengan baik
dash-outcome-not-printed = tidak ada kartu yang keluar: cetak lagi
dash-outcome-spoiled = kartu keluar tetapi tidak layak pakai (blangko rusak)
dash-act-reason = Alasan
dash-reason-needed = (wajib diisi)
dash-reason-optional = (boleh dikosongkan)
dash-act-back = Kembali
dash-act-confirm = Lanjutkan
dash-act-say-outcome = Pilih apa yang keluar dari printer.
dash-job-now = Pekerjaan { $job } sekarang { $state }.
dash-job-now-ledger = Pekerjaan { $job } sekarang { $state }. { $ledger }.

dash-estimate = { $name } ({ $nik }): { $estimate }.
dash-estimate-failed = Perkiraan selesai untuk { $name } tidak tersedia: { $error }
dash-slip-failed = Tanda bukti untuk { $name } tidak tersedia: { $error }

dash-printer-paused-notice = Printer { $printer } dijeda.
dash-printer-resumed-notice = Printer { $printer } berjalan lagi.
dash-pause-failed = Printer { $printer } tidak dapat dijeda: { $error }
dash-resume-failed = Printer { $printer } tidak dapat dijalankan lagi: { $error }
dash-load-prompt = Berapa lembar blangko KTP-el yang Anda isikan ke { $printer }?
dash-load-not-a-number = Bukan jumlah kartu: { $answer }
dash-loaded = { $blanks } diisikan ke { $printer }: sekarang berisi { $total }.
dash-load-failed = Blangko untuk { $printer } tidak dapat dicatat: { $error }
dash-test-confirm = Cetak kartu uji di { $printer }? Satu blangko terpakai dan dicatat sebagai kartu uji di buku blangko.
dash-test-sent = Kartu uji dikirim ke { $printer } sebagai { $card }.
dash-test-failed = Kartu uji di { $printer } gagal: { $error }
