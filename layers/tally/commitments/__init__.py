"""Reserved capacity (Savings Plans and reservations): amortising their purchases over the
usage that consumed them, their utilisation and coverage, expiry notices and purchase
recommendations."""
