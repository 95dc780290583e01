"""Pages of the accounts app, split by domain: accounts, units, sign-in."""
