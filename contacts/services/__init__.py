"""Everything in `contacts` that writes or talks to BICS."""
