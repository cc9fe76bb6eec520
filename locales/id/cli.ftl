# Teks CLI petugas (`cardspool status|jobs|printers|central|ledger|rejections|report`).
# Setiap pesan punya kembaran di ../en/cli.ftl (diperiksa oleh tes). Nama status pekerjaan
# diambil dari common.ftl (state-*); teks dari API (alasan, galat, perkiraan selesai) sudah
# datang dalam bahasa yang diminta.

## Galat

cli-error-cannot-connect = tidak dapat terhubung ke { $place }: apakah `cardspool run` berjalan di sana? (atau berikan alamatnya dengan --api)
cli-error-timed-out = spooler di { $place } tidak menjawab tepat waktu: mungkin sedang sibuk, coba lagi
cli-error-cannot-set-up = tidak dapat menyiapkan sambungan ke { $place }: { $problem }
cli-error-connection-failed = sambungan ke { $place } gagal ({ $problem }): apakah itu API cardspool?
cli-error-api = { $message } (HTTP { $status })
cli-error-give-token = { $error } — berikan token dengan --token atau CARDSPOOL_TOKEN
cli-error-unexpected = jawaban API tidak seperti yang diharapkan perintah ini: tidak ada daftar { $list }
cli-error-not-cardspool = layanan di { $place } bukan API cardspool (jawabannya { $answer }): periksa --api
cli-error-api-scheme = --api { $url } harus diawali http:// atau https://
cli-error-api-url = --api { $url }: { $problem }
cli-error-certificate = sertifikat API { $path }: { $problem }
cli-error-cannot-write = tidak dapat menulis { $path }: { $problem }

## Mencari pekerjaan cetak

cli-no-id-starts-with = tidak ada ID pekerjaan yang diawali { $given }; pencarian menemukan yang berikut, berikan ID salah satunya:
cli-no-job-by-id = tidak ada pekerjaan yang cocok dengan { $given } (ID pekerjaan atau beberapa karakter awalnya)
cli-no-job-matches = tidak ada pekerjaan yang cocok dengan { $given } (ID pekerjaan atau beberapa karakter awalnya, ID event, NIK lengkap, atau sebagian nama)
cli-jobs-match-give-more = { $count } pekerjaan cocok dengan { $given }; berikan ID yang lebih panjang:
cli-jobs-match-or-more-give-more = { $count } pekerjaan atau lebih cocok dengan { $given }; berikan ID yang lebih panjang:
cli-jobs-match-give-one = { $count } pekerjaan cocok dengan { $given }; berikan ID salah satunya:
cli-jobs-match-or-more-give-one = { $count } pekerjaan atau lebih cocok dengan { $given }; berikan ID salah satunya:
cli-where-none = tidak ada pekerjaan untuk { $query } (NIK lengkap, ID pekerjaan, atau sebagian nama)

## Pekerjaan cetak

cli-no-jobs = tidak ada pekerjaan cetak
cli-more-jobs = berikutnya: --cursor { $cursor }
cli-job-already = pekerjaan { $job }: sudah { $state }
cli-job-now = pekerjaan { $job }: { $state } — { $reason }
cli-priority-urgent = mendesak
cli-priority-normal = biasa
cli-actor-system = sistem
cli-section-history = riwayat
cli-section-cards = kartu

## Judul kolom

cli-col-id = ID
cli-col-state = STATUS
cli-col-office = KANTOR
cli-col-nik = NIK
cli-col-name = NAMA
cli-col-printer = PRINTER
cli-col-updated = DIPERBARUI
cli-col-reason = ALASAN
cli-col-received = DITERIMA
cli-col-at = WAKTU
cli-col-step = LANGKAH
cli-col-by = OLEH
cli-col-sent = DIKIRIM
cli-col-outcome = HASIL
cli-col-last-seen = TERAKHIR
cli-col-event = EVENT
cli-col-times = KALI
cli-col-why = ALASAN
cli-col-pool = KELOMPOK
cli-col-jobs = PEKERJAAN
cli-col-blanks = BLANGKO
cli-col-device = PERANGKAT
cli-col-checked = DIPERIKSA
cli-col-status = KEADAAN
cli-col-day = TANGGAL
cli-col-printed = DICETAK
cli-col-spoiled = RUSAK
cli-col-test = UJI
cli-col-not-fed = TIDAK MASUK
cli-col-cancelled = BATAL
cli-col-unknown = BELUM PASTI
cli-col-on-printer = DI PRINTER
cli-col-blanks-used = BLANGKO TERPAKAI

## Label `jobs show`, `central status` dan `status`

cli-label-job = pekerjaan
cli-label-event = event
cli-label-state = status
cli-label-reason = alasan
cli-label-held-from = ditahan dari
cli-label-name = nama
cli-label-nik = NIK
cli-label-office = kantor
cli-label-template = templat
cli-label-priority = prioritas
cli-label-attempts = percobaan
cli-label-next-attempt = dicoba lagi
cli-label-authorized = otorisasi
cli-label-expires = berlaku s.d.
cli-label-printer = printer
cli-label-received = diterima
cli-label-warning = peringatan
cli-label-actions = tindakan
cli-label-central = pusat
cli-label-alert = peringatan
cli-label-breaker = pemutus
cli-label-failures = gagal berturut
cli-label-last-error = galat terakhir
cli-label-last-success = terakhir berhasil
cli-label-next-check = cek berikutnya
cli-label-paused-until = dijeda sampai
cli-label-waiting = menunggu
cli-label-queue = antrean
cli-label-printers = printer
cli-label-upstream = kabar status
cli-label-refused = ditolak

## Kartu di catatan pemakaian blangko

cli-outcome-sent = masih di printer
cli-outcome-printed = sudah dicetak
cli-outcome-spoiled = kartu rusak
cli-outcome-not_fed = blangko tidak masuk
cli-outcome-cancelled = dibatalkan
cli-outcome-unknown = belum pasti
cli-outcome-test = kartu uji
cli-ledger-span = { $from } s.d. { $to }
cli-ledger-empty = tidak ada kartu di catatan blangko untuk { $span }
cli-ledger-total = jumlah

## Pusat

cli-central-state-unknown = belum diketahui
cli-central-state-up = tersambung
cli-central-state-degraded = terganggu
cli-central-state-down = tidak dapat dihubungi
cli-central-state-credentials_refused = kredensial kantor ditolak
cli-breaker-closed = tertutup (normal)
cli-breaker-open = terbuka (pusat dicek sesekali)
cli-breaker-credentials_refused = kredensial kantor ditolak
cli-since = { $what } sejak { $since }
cli-since-time = sejak { $since }
cli-central-asked = pusat sedang dihubungi sekarang
cli-central-flowing = permintaan ke pusat sudah berjalan: tidak ada yang perlu dicek
cli-central-no-answer = belum ada jawaban dari pusat dalam { $wait } detik; `cardspool central status` menampilkannya begitu jawaban datang
cli-central-not-here = tidak berjalan di sini
cli-cards = { $count } kartu
cli-cards-oldest-since = { $count } kartu, yang terlama sejak { $since }

## Printer dan blangkonya

cli-printer-unchecked = belum dicek
cli-printer-ready = siap
cli-printer-faulted = bermasalah
cli-printer-paused = dijeda
cli-printer-paused-by = dijeda oleh { $by } sejak { $since }
cli-printer-test-sent = { $printer }: kartu uji dikirim sebagai { $card } (dicatat sebagai kartu uji di catatan blangko)
cli-printer-loaded = { $printer }: { $cards } blangko diisi; stok { $blanks }
cli-no-printers = belum ada printer yang dikonfigurasi
cli-blanks = { $count } blangko
cli-blanks-low = { $count } blangko (menipis)
cli-blanks-reserve = { $count } blangko (cadangan: hanya kartu mendesak)

## `cardspool status`

cli-status-central-off = tidak berjalan di spooler ini ({ $why }): tidak ada kartu yang diotorisasi atau dicetak
cli-status-waiting-central = { $count } kartu menunggu otorisasi pusat
cli-status-waiting-printer = { $count } kartu menunggu printer
cli-status-waiting-staff = { $count } kartu menunggu petugas
cli-status-oldest = { $waiting }, yang terlama diterima { $since }
cli-status-no-printing = pencetakan tidak berjalan di spooler ini
cli-status-no-printers = belum ada yang dikonfigurasi
cli-status-upstream-held = tertahan sejak { $since }: { $reason } ({ $count } menunggu dikirim)
cli-status-refused = { $events } data perekaman berbeda, { $deliveries } kiriman seluruhnya

## Penolakan dan laporan

cli-no-event-id = (tanpa ID event)
cli-rejections-count = { $events } data perekaman ditolak, { $deliveries } kiriman seluruhnya
cli-report-written = laporan harian ({ $format }, { $bytes } byte) disimpan di { $path }
