"""Landing pages per role (judge, chief judge, finance) and the public competition page."""
