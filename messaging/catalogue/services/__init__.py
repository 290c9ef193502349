"""Everything in messaging that writes or talks to BICS (HackSoft-style services)."""
