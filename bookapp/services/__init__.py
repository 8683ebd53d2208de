"""Services: what views, jobs and commands call to change books and imports."""
