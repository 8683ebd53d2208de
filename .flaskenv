# Read by `flask` (python-dotenv): run `flask worker`, `flask db upgrade`, ... without --app.
FLASK_APP=wsgi
