"""Landing pages per role (judge, chief judge) and the public competition page."""
