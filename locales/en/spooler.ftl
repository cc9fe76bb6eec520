# The spooler's spooler texts. Every message has its twin in the other language (a test checks).
