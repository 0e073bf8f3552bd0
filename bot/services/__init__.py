"""Services: the programme's rules, working on a database session handed in."""
