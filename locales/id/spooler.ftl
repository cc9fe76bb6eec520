# Teks yang disusun spooler langsung untuk pembaca (tidak disimpan): perkiraan selesai.
# Setiap pesan punya kembaran di ../en/spooler.ftl (diperiksa oleh tes).

estimate-ended = { $state } sejak { $since }
estimate-waiting-for-staff = { $state }: menunggu petugas ({ $reason })
estimate-waiting-for-central = menunggu otorisasi cetak dari pusat sejak { $since }; belum ada perkiraan selama { $central }
estimate-central-since = { $why } sejak { $since }
estimate-queued = nomor antrean { $position } dari { $of } di kelompok printer { $pool }; { $when }
estimate-expected-today = perkiraan selesai sekitar pukul { $time } hari ini
estimate-expected = perkiraan selesai sekitar { $at }
estimate-none = belum ada perkiraan: { $why }
