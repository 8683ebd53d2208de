--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: pg_trgm; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;


--
-- Name: EXTENSION pg_trgm; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';


--
-- Name: book_order_stale_deleted(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.book_order_stale_deleted() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        INSERT INTO book_order_stale (id) SELECT id FROM deleted_books ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$;


--
-- Name: book_order_stale_updated(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.book_order_stale_updated() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        INSERT INTO book_order_stale (id) SELECT new_books.id FROM new_books JOIN old_books ON old_books.id = new_books.id
        WHERE (old_books.title, old_books.author, old_books.book_type, old_books.year_published, old_books.price, old_books.no_of_pages, old_books.quantity, old_books.created_at, old_books.updated_at)
            IS DISTINCT FROM (new_books.title, new_books.author, new_books.book_type, new_books.year_published, new_books.price, new_books.no_of_pages, new_books.quantity, new_books.created_at, new_books.updated_at)
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$;


--
-- Name: book_search_follow(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.book_search_follow() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM book_search WHERE book_id = OLD.id;
            RETURN OLD;
        END IF;
        UPDATE book_search SET title = NEW.title, author = NEW.author WHERE book_id = NEW.id;
        RETURN NEW;
    END $$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: api_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_tokens (
    id integer NOT NULL,
    user_id integer NOT NULL,
    token_hash character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone
);


--
-- Name: api_tokens_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.api_tokens_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: api_tokens_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.api_tokens_id_seq OWNED BY public.api_tokens.id;


--
-- Name: book_order; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.book_order (
    id integer NOT NULL,
    title character varying(255) NOT NULL,
    author character varying(255) NOT NULL,
    book_type character varying(8) NOT NULL,
    year_published character varying(4) NOT NULL,
    price numeric(10,2) NOT NULL,
    no_of_pages integer,
    quantity integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: book_order_stale; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.book_order_stale (
    id integer NOT NULL
);


--
-- Name: book_search; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.book_search (
    book_id bigint NOT NULL,
    title text NOT NULL,
    author text NOT NULL
);


--
-- Name: books; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.books (
    id integer NOT NULL,
    isbn character varying(13) NOT NULL,
    title character varying(255) NOT NULL,
    author character varying(255) NOT NULL,
    book_type character varying(8) NOT NULL,
    year_published character varying(4) NOT NULL,
    price numeric(10,2) NOT NULL,
    no_of_pages integer,
    quantity integer NOT NULL,
    description text,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    created_by_import_id integer,
    import_id integer
);


--
-- Name: books_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.books_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: books_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.books_id_seq OWNED BY public.books.id;


--
-- Name: import_changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.import_changes (
    id integer NOT NULL,
    import_id integer NOT NULL,
    book_id integer NOT NULL,
    row_number integer NOT NULL,
    before json NOT NULL,
    previous_import_id integer
);


--
-- Name: import_changes_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.import_changes_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: import_changes_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.import_changes_id_seq OWNED BY public.import_changes.id;


--
-- Name: import_chunks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.import_chunks (
    id integer NOT NULL,
    import_id integer NOT NULL,
    first_row integer NOT NULL,
    last_row integer NOT NULL,
    row_numbers bytea NOT NULL,
    outcomes bytea NOT NULL
);


--
-- Name: import_chunks_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.import_chunks_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: import_chunks_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.import_chunks_id_seq OWNED BY public.import_chunks.id;


--
-- Name: import_row_errors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.import_row_errors (
    id integer NOT NULL,
    import_id integer NOT NULL,
    row_number integer NOT NULL,
    "column" character varying(255),
    value character varying(255),
    message text NOT NULL
);


--
-- Name: import_row_errors_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.import_row_errors_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: import_row_errors_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.import_row_errors_id_seq OWNED BY public.import_row_errors.id;


--
-- Name: imports; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.imports (
    id integer NOT NULL,
    status character varying(16) NOT NULL,
    mode character varying(16) NOT NULL,
    dry_run boolean NOT NULL,
    all_or_nothing boolean NOT NULL,
    phase character varying(16) NOT NULL,
    cancel_requested boolean NOT NULL,
    source_import_id integer,
    filename character varying(255) NOT NULL,
    stored_name character varying(64) NOT NULL,
    file_kind character varying(8) NOT NULL,
    file_size bigint NOT NULL,
    sha256 character varying(64) NOT NULL,
    created_by_id integer,
    created_at timestamp with time zone NOT NULL,
    enqueued_at timestamp with time zone,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    heartbeat_at timestamp with time zone,
    attempts integer NOT NULL,
    total_rows integer,
    processed_rows integer NOT NULL,
    checkpoint_row integer NOT NULL,
    created integer NOT NULL,
    updated integer NOT NULL,
    unchanged integer NOT NULL,
    skipped integer NOT NULL,
    rejected integer NOT NULL,
    headers json,
    ignored_columns json NOT NULL,
    read_as character varying(255),
    preview json,
    error text,
    file_deleted_at timestamp with time zone,
    undone_at timestamp with time zone,
    undone_by_id integer,
    undo_report json
);


--
-- Name: imports_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.imports_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: imports_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.imports_id_seq OWNED BY public.imports.id;


--
-- Name: rejected_rows; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rejected_rows (
    id integer NOT NULL,
    import_id integer NOT NULL,
    row_number integer NOT NULL,
    cells json NOT NULL,
    errors text NOT NULL
);


--
-- Name: rejected_rows_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.rejected_rows_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: rejected_rows_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.rejected_rows_id_seq OWNED BY public.rejected_rows.id;


--
-- Name: search_state; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.search_state (
    id integer NOT NULL,
    indexed_upto bigint NOT NULL,
    books bigint
);


--
-- Name: search_state_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.search_state_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: search_state_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.search_state_id_seq OWNED BY public.search_state.id;


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id integer NOT NULL,
    email character varying(254) NOT NULL,
    password_hash character varying(255) NOT NULL,
    role character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: users_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.users_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: users_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id;


--
-- Name: api_tokens id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens ALTER COLUMN id SET DEFAULT nextval('public.api_tokens_id_seq'::regclass);


--
-- Name: books id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.books ALTER COLUMN id SET DEFAULT nextval('public.books_id_seq'::regclass);


--
-- Name: import_changes id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_changes ALTER COLUMN id SET DEFAULT nextval('public.import_changes_id_seq'::regclass);


--
-- Name: import_chunks id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_chunks ALTER COLUMN id SET DEFAULT nextval('public.import_chunks_id_seq'::regclass);


--
-- Name: import_row_errors id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_row_errors ALTER COLUMN id SET DEFAULT nextval('public.import_row_errors_id_seq'::regclass);


--
-- Name: imports id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.imports ALTER COLUMN id SET DEFAULT nextval('public.imports_id_seq'::regclass);


--
-- Name: rejected_rows id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rejected_rows ALTER COLUMN id SET DEFAULT nextval('public.rejected_rows_id_seq'::regclass);


--
-- Name: search_state id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_state ALTER COLUMN id SET DEFAULT nextval('public.search_state_id_seq'::regclass);


--
-- Name: users id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users ALTER COLUMN id SET DEFAULT nextval('public.users_id_seq'::regclass);


--
-- Data for Name: api_tokens; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: book_order; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: book_order_stale; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: book_search; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: books; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: import_changes; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: import_chunks; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: import_row_errors; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: imports; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: rejected_rows; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: search_state; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.search_state VALUES (1, 0, NULL);
INSERT INTO public.search_state VALUES (2, 0, 0);


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Name: api_tokens_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.api_tokens_id_seq', 1, false);


--
-- Name: books_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.books_id_seq', 1, false);


--
-- Name: import_changes_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.import_changes_id_seq', 1, false);


--
-- Name: import_chunks_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.import_chunks_id_seq', 1, false);


--
-- Name: import_row_errors_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.import_row_errors_id_seq', 1, false);


--
-- Name: imports_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.imports_id_seq', 1, false);


--
-- Name: rejected_rows_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.rejected_rows_id_seq', 1, false);


--
-- Name: search_state_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.search_state_id_seq', 1, false);


--
-- Name: users_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.users_id_seq', 1, false);


--
-- Name: api_tokens api_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (id);


--
-- Name: api_tokens api_tokens_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash);


--
-- Name: book_order_stale book_order_stale_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.book_order_stale
    ADD CONSTRAINT book_order_stale_pkey PRIMARY KEY (id);


--
-- Name: book_search book_search_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.book_search
    ADD CONSTRAINT book_search_pkey PRIMARY KEY (book_id);


--
-- Name: books books_isbn_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.books
    ADD CONSTRAINT books_isbn_key UNIQUE (isbn);


--
-- Name: books books_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.books
    ADD CONSTRAINT books_pkey PRIMARY KEY (id);


--
-- Name: import_changes import_changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_changes
    ADD CONSTRAINT import_changes_pkey PRIMARY KEY (id);


--
-- Name: import_chunks import_chunks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_chunks
    ADD CONSTRAINT import_chunks_pkey PRIMARY KEY (id);


--
-- Name: import_row_errors import_row_errors_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_row_errors
    ADD CONSTRAINT import_row_errors_pkey PRIMARY KEY (id);


--
-- Name: imports imports_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.imports
    ADD CONSTRAINT imports_pkey PRIMARY KEY (id);


--
-- Name: book_order pk_book_order_fb9a43b6; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.book_order
    ADD CONSTRAINT pk_book_order_fb9a43b6 PRIMARY KEY (id);


--
-- Name: rejected_rows rejected_rows_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rejected_rows
    ADD CONSTRAINT rejected_rows_pkey PRIMARY KEY (id);


--
-- Name: search_state search_state_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_state
    ADD CONSTRAINT search_state_pkey PRIMARY KEY (id);


--
-- Name: users users_email_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_email_key UNIQUE (email);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: ix_book_order_author_fb9a43b6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_order_author_fb9a43b6 ON public.book_order USING btree (author, id);


--
-- Name: ix_book_order_book_type_fb9a43b6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_order_book_type_fb9a43b6 ON public.book_order USING btree (book_type, id);


--
-- Name: ix_book_order_created_at_fb9a43b6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_order_created_at_fb9a43b6 ON public.book_order USING btree (created_at, id);


--
-- Name: ix_book_order_no_of_pages_fb9a43b6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_order_no_of_pages_fb9a43b6 ON public.book_order USING btree (no_of_pages, id);


--
-- Name: ix_book_order_price_fb9a43b6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_order_price_fb9a43b6 ON public.book_order USING btree (price, id);


--
-- Name: ix_book_order_quantity_fb9a43b6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_order_quantity_fb9a43b6 ON public.book_order USING btree (quantity, id);


--
-- Name: ix_book_order_title_fb9a43b6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_order_title_fb9a43b6 ON public.book_order USING btree (title, id);


--
-- Name: ix_book_order_updated_at_fb9a43b6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_order_updated_at_fb9a43b6 ON public.book_order USING btree (updated_at, id);


--
-- Name: ix_book_order_year_published_fb9a43b6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_order_year_published_fb9a43b6 ON public.book_order USING btree (year_published, id);


--
-- Name: ix_book_search_author; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_search_author ON public.book_search USING gin (author public.gin_trgm_ops);


--
-- Name: ix_book_search_title; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_book_search_title ON public.book_search USING gin (title public.gin_trgm_ops);


--
-- Name: ix_books_created_by_import_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_books_created_by_import_id ON public.books USING brin (created_by_import_id);


--
-- Name: ix_books_import_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_books_import_id ON public.books USING btree (import_id);


--
-- Name: ix_import_changes_import_book; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_import_changes_import_book ON public.import_changes USING btree (import_id, book_id);


--
-- Name: ix_import_chunks_import_first; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_import_chunks_import_first ON public.import_chunks USING btree (import_id, first_row);


--
-- Name: ix_import_row_errors_import_row; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_import_row_errors_import_row ON public.import_row_errors USING btree (import_id, row_number);


--
-- Name: ix_imports_sha256; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_imports_sha256 ON public.imports USING btree (sha256);


--
-- Name: ix_imports_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_imports_status ON public.imports USING btree (status);


--
-- Name: ix_rejected_rows_import_row; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_rejected_rows_import_row ON public.rejected_rows USING btree (import_id, row_number);


--
-- Name: books book_order_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER book_order_delete AFTER DELETE ON public.books REFERENCING OLD TABLE AS deleted_books FOR EACH STATEMENT EXECUTE FUNCTION public.book_order_stale_deleted();


--
-- Name: books book_order_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER book_order_update AFTER UPDATE ON public.books REFERENCING OLD TABLE AS old_books NEW TABLE AS new_books FOR EACH STATEMENT EXECUTE FUNCTION public.book_order_stale_updated();


--
-- Name: books book_search_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER book_search_delete AFTER DELETE ON public.books FOR EACH ROW EXECUTE FUNCTION public.book_search_follow();


--
-- Name: books book_search_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER book_search_update AFTER UPDATE OF title, author ON public.books FOR EACH ROW WHEN ((((old.title)::text IS DISTINCT FROM (new.title)::text) OR ((old.author)::text IS DISTINCT FROM (new.author)::text))) EXECUTE FUNCTION public.book_search_follow();


--
-- Name: api_tokens api_tokens_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: import_changes import_changes_import_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_changes
    ADD CONSTRAINT import_changes_import_id_fkey FOREIGN KEY (import_id) REFERENCES public.imports(id) ON DELETE CASCADE;


--
-- Name: import_chunks import_chunks_import_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_chunks
    ADD CONSTRAINT import_chunks_import_id_fkey FOREIGN KEY (import_id) REFERENCES public.imports(id) ON DELETE CASCADE;


--
-- Name: import_row_errors import_row_errors_import_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_row_errors
    ADD CONSTRAINT import_row_errors_import_id_fkey FOREIGN KEY (import_id) REFERENCES public.imports(id) ON DELETE CASCADE;


--
-- Name: imports imports_created_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.imports
    ADD CONSTRAINT imports_created_by_id_fkey FOREIGN KEY (created_by_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: imports imports_source_import_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.imports
    ADD CONSTRAINT imports_source_import_id_fkey FOREIGN KEY (source_import_id) REFERENCES public.imports(id) ON DELETE SET NULL;


--
-- Name: imports imports_undone_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.imports
    ADD CONSTRAINT imports_undone_by_id_fkey FOREIGN KEY (undone_by_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: rejected_rows rejected_rows_import_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rejected_rows
    ADD CONSTRAINT rejected_rows_import_id_fkey FOREIGN KEY (import_id) REFERENCES public.imports(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


