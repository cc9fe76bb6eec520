# Teks spooler spooler. Setiap pesan punya kembaran dalam bahasa lain (diperiksa oleh tes).
