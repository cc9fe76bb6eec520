# Teks yang disimpan spooler (alasan pekerjaan cetak, catatan audit), ditulis dalam bahasa
# Inggris dan ditampilkan dalam bahasa pembaca. Lihat ../en/said.ftl.

said-not-printing = tidak dicetak: { $cause }
