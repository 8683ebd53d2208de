CREATE TABLE users (
	id INTEGER NOT NULL, 
	email VARCHAR(254) NOT NULL, 
	password_hash VARCHAR(255) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (email)
);
CREATE TABLE books (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	isbn VARCHAR(13) NOT NULL, 
	title VARCHAR(255) NOT NULL, 
	author VARCHAR(255) NOT NULL, 
	book_type VARCHAR(8) NOT NULL, 
	year_published VARCHAR(4) NOT NULL, 
	price BIGINT NOT NULL, 
	no_of_pages INTEGER, 
	quantity INTEGER NOT NULL, 
	description TEXT, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	created_by_import_id INTEGER, 
	import_id INTEGER, 
	UNIQUE (isbn)
);
CREATE INDEX ix_books_created_by_import_id ON books (created_by_import_id);
CREATE INDEX ix_books_import_id ON books (import_id);
CREATE TABLE search_state (
	id INTEGER NOT NULL, 
	indexed_upto BIGINT NOT NULL, 
	books BIGINT, 
	PRIMARY KEY (id)
);
CREATE TABLE api_tokens (
	id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	revoked_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	UNIQUE (token_hash)
);
CREATE TABLE imports (
	id INTEGER NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	mode VARCHAR(16) NOT NULL, 
	dry_run BOOLEAN NOT NULL, 
	all_or_nothing BOOLEAN NOT NULL, 
	phase VARCHAR(16) NOT NULL, 
	cancel_requested BOOLEAN NOT NULL, 
	source_import_id INTEGER, 
	filename VARCHAR(255) NOT NULL, 
	stored_name VARCHAR(64) NOT NULL, 
	file_kind VARCHAR(8) NOT NULL, 
	file_size BIGINT NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	created_by_id INTEGER, 
	created_at DATETIME NOT NULL, 
	enqueued_at DATETIME, 
	started_at DATETIME, 
	finished_at DATETIME, 
	heartbeat_at DATETIME, 
	attempts INTEGER NOT NULL, 
	total_rows INTEGER, 
	processed_rows INTEGER NOT NULL, 
	checkpoint_row INTEGER NOT NULL, 
	created INTEGER NOT NULL, 
	updated INTEGER NOT NULL, 
	unchanged INTEGER NOT NULL, 
	skipped INTEGER NOT NULL, 
	rejected INTEGER NOT NULL, 
	headers JSON, 
	ignored_columns JSON NOT NULL, 
	read_as VARCHAR(255), 
	preview JSON, 
	error TEXT, 
	file_deleted_at DATETIME, 
	undone_at DATETIME, 
	undone_by_id INTEGER, 
	undo_report JSON, 
	PRIMARY KEY (id), 
	FOREIGN KEY(source_import_id) REFERENCES imports (id) ON DELETE SET NULL, 
	FOREIGN KEY(created_by_id) REFERENCES users (id) ON DELETE SET NULL, 
	FOREIGN KEY(undone_by_id) REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX ix_imports_status ON imports (status);
CREATE INDEX ix_imports_sha256 ON imports (sha256);
CREATE TABLE import_row_errors (
	id INTEGER NOT NULL, 
	import_id INTEGER NOT NULL, 
	row_number INTEGER NOT NULL, 
	"column" VARCHAR(255), 
	value VARCHAR(255), 
	message TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id) ON DELETE CASCADE
);
CREATE INDEX ix_import_row_errors_import_row ON import_row_errors (import_id, row_number);
CREATE TABLE rejected_rows (
	id INTEGER NOT NULL, 
	import_id INTEGER NOT NULL, 
	row_number INTEGER NOT NULL, 
	cells JSON NOT NULL, 
	errors TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id) ON DELETE CASCADE
);
CREATE INDEX ix_rejected_rows_import_row ON rejected_rows (import_id, row_number);
CREATE TABLE import_chunks (
	id INTEGER NOT NULL, 
	import_id INTEGER NOT NULL, 
	first_row INTEGER NOT NULL, 
	last_row INTEGER NOT NULL, 
	row_numbers BLOB NOT NULL, 
	outcomes BLOB NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id) ON DELETE CASCADE
);
CREATE INDEX ix_import_chunks_import_first ON import_chunks (import_id, first_row);
CREATE TABLE import_changes (
	id INTEGER NOT NULL, 
	import_id INTEGER NOT NULL, 
	book_id INTEGER NOT NULL, 
	row_number INTEGER NOT NULL, 
	"before" JSON NOT NULL, 
	previous_import_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES imports (id) ON DELETE CASCADE
);
CREATE INDEX ix_import_changes_import_book ON import_changes (import_id, book_id);
CREATE VIRTUAL TABLE books_search USING fts5(title, author, tokenize='trigram', detail='none');
CREATE TABLE book_order (id INTEGER NOT NULL, title VARCHAR(255) NOT NULL, author VARCHAR(255) NOT NULL, book_type VARCHAR(8) NOT NULL, year_published VARCHAR(4) NOT NULL, price BIGINT NOT NULL, no_of_pages INTEGER, quantity INTEGER NOT NULL, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, CONSTRAINT pk_book_order_7143b605 PRIMARY KEY (id));
CREATE INDEX ix_book_order_title_7143b605 ON book_order (title);
CREATE INDEX ix_book_order_author_7143b605 ON book_order (author);
CREATE INDEX ix_book_order_book_type_7143b605 ON book_order (book_type);
CREATE INDEX ix_book_order_year_published_7143b605 ON book_order (year_published);
CREATE INDEX ix_book_order_price_7143b605 ON book_order (price);
CREATE INDEX ix_book_order_no_of_pages_7143b605 ON book_order (no_of_pages);
CREATE INDEX ix_book_order_quantity_7143b605 ON book_order (quantity);
CREATE INDEX ix_book_order_created_at_7143b605 ON book_order (created_at);
CREATE INDEX ix_book_order_updated_at_7143b605 ON book_order (updated_at);
CREATE TABLE book_order_stale (id INTEGER PRIMARY KEY);
CREATE TRIGGER book_order_update AFTER UPDATE ON books WHEN old.title IS NOT new.title OR old.author IS NOT new.author OR old.book_type IS NOT new.book_type OR old.year_published IS NOT new.year_published OR old.price IS NOT new.price OR old.no_of_pages IS NOT new.no_of_pages OR old.quantity IS NOT new.quantity OR old.created_at IS NOT new.created_at OR old.updated_at IS NOT new.updated_at BEGIN INSERT OR IGNORE INTO book_order_stale (id) VALUES (new.id); END;
CREATE TRIGGER book_order_delete AFTER DELETE ON books BEGIN INSERT OR IGNORE INTO book_order_stale (id) VALUES (old.id); END;
INSERT INTO search_state (id, indexed_upto, books) VALUES (1, 0, NULL);
INSERT INTO search_state (id, indexed_upto, books) VALUES (2, 0, 0);
