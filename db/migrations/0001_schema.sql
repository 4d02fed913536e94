-- 0001: roles, schema and the whole data model of DESIGN.md section 3.
-- Placeholders: {{schema}} is the schema name; group roles are {{roles}}_owner, _agent,
-- _rep, _manager, _admin. The runner executes this as the installer (a superuser, or a role
-- with CREATEROLE that may SET ROLE to the owner), inside one transaction under an advisory lock.

DO $roles$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['{{roles}}_owner', '{{roles}}_agent', '{{roles}}_rep',
                             '{{roles}}_manager', '{{roles}}_admin', '{{roles}}_user']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
        END IF;
    END LOOP;
END
$roles$;

-- Every person's group role is also a member of {{roles}}_user, which carries what all share.
ALTER ROLE {{roles}}_agent INHERIT;
ALTER ROLE {{roles}}_rep INHERIT;
ALTER ROLE {{roles}}_manager INHERIT;
ALTER ROLE {{roles}}_admin INHERIT;
GRANT {{roles}}_user TO {{roles}}_agent, {{roles}}_rep, {{roles}}_manager, {{roles}}_admin;

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE SCHEMA IF NOT EXISTS {{schema}} AUTHORIZATION {{roles}}_owner;
REVOKE ALL ON SCHEMA {{schema}} FROM PUBLIC;
GRANT USAGE ON SCHEMA {{schema}} TO {{roles}}_user;

-- The installer may not own anything: everything below is created as the owner role.
GRANT {{roles}}_owner TO CURRENT_USER;
SET LOCAL ROLE {{roles}}_owner;
SET LOCAL search_path = {{schema}}, public;

CREATE TABLE schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT session_user
);

-- ---------------------------------------------------------------------------------------------
-- Shared trigger functions

-- updated_at and version are the database's: every UPDATE bumps them, whoever runs it, so the
-- optimistic lock of DESIGN.md section 6 holds for psql edits as well.
CREATE FUNCTION touch_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- People

CREATE TABLE team (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    parent_id   bigint REFERENCES team(id),
    manager_id  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1,
    deleted_at  timestamptz,
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX team_name_key ON team (lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX team_parent_idx ON team (parent_id);

CREATE TABLE app_user (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z_][a-z0-9_.-]{0,62}$'),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    email         text CHECK (length(email) <= 320),
    team_id       bigint REFERENCES team(id),
    role          text NOT NULL DEFAULT 'rep'
                  CHECK (role IN ('agent', 'rep', 'manager', 'admin')),
    active        boolean NOT NULL DEFAULT true,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       integer NOT NULL DEFAULT 1,
    deleted_at    timestamptz
);
CREATE INDEX app_user_team_idx ON app_user (team_id);
ALTER TABLE team ADD CONSTRAINT team_manager_fk FOREIGN KEY (manager_id) REFERENCES app_user(id);

-- The app_user row of the person connected (session_user: correct inside SECURITY DEFINER too).
CREATE FUNCTION current_app_user_id() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
    SELECT id FROM app_user WHERE username = session_user::text AND active
$$;
REVOKE ALL ON FUNCTION current_app_user_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION current_app_user_id() TO {{roles}}_user;

-- ---------------------------------------------------------------------------------------------
-- Accounts and contacts

CREATE TABLE account (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 10000),
    parent_id       bigint REFERENCES account(id),
    industry        text CHECK (length(industry) <= 200),
    sic_code        text CHECK (sic_code ~ '^[0-9]{2,4}$'),
    employees       integer CHECK (employees >= 0),
    annual_revenue  numeric(18, 2) CHECK (annual_revenue >= 0),
    budget          numeric(18, 2) CHECK (budget >= 0),
    currency        char(3) NOT NULL DEFAULT 'EUR',
    website         text CHECK (length(website) <= 2000),
    phone           text CHECK (length(phone) <= 40),
    street          text,
    postal_code     text,
    city            text,
    region          text,
    country         text,
    tier            text CHECK (tier IN ('A', 'B', 'C')),
    lifecycle       text NOT NULL DEFAULT 'prospect'
                    CHECK (lifecycle IN ('prospect', 'customer', 'former', 'partner')),
    kind            text NOT NULL DEFAULT 'company'
                    CHECK (kind IN ('holding', 'company', 'subsidiary', 'division', 'school',
                                    'household', 'public_body')),
    description     text,
    owner_id        bigint REFERENCES app_user(id) DEFAULT current_app_user_id(),
    team_id         bigint REFERENCES team(id),
    custom          jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1,
    deleted_at      timestamptz,
    CHECK (parent_id IS DISTINCT FROM id)
);
-- Keyset orders of the tree: roots by name, children of a parent by name.
CREATE INDEX account_roots_idx ON account (lower(name), id) WHERE parent_id IS NULL;
CREATE INDEX account_children_idx ON account (parent_id, lower(name), id);
CREATE INDEX account_name_trgm ON account USING gin (name gin_trgm_ops);
CREATE INDEX account_owner_idx ON account (owner_id);
CREATE INDEX account_team_idx ON account (team_id);

CREATE TABLE contact (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint REFERENCES account(id),
    salutation      text CHECK (length(salutation) <= 40),
    first_name      text NOT NULL DEFAULT '' CHECK (length(first_name) <= 10000),
    last_name       text NOT NULL DEFAULT '' CHECK (length(last_name) <= 10000),
    full_name       text GENERATED ALWAYS AS (btrim(first_name || ' ' || last_name)) STORED,
    job_title       text CHECK (length(job_title) <= 200),
    job_role        text CHECK (job_role IN ('decision_maker', 'economic_buyer', 'influencer',
                                             'champion', 'user', 'gatekeeper', 'technical',
                                             'other')),
    department      text CHECK (length(department) <= 200),
    birthday        date,
    spouse_name     text CHECK (length(spouse_name) <= 200),
    interests       text CHECK (length(interests) <= 2000),
    street          text,
    postal_code     text,
    city            text,
    region          text,
    country         text,
    preferred_language text,
    do_not_call     boolean NOT NULL DEFAULT false,
    do_not_email    boolean NOT NULL DEFAULT false,
    notes           text,
    owner_id        bigint REFERENCES app_user(id) DEFAULT current_app_user_id(),
    team_id         bigint REFERENCES team(id),
    custom          jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1,
    deleted_at      timestamptz,
    CHECK (length(first_name) + length(last_name) > 0)
);
CREATE INDEX contact_account_idx ON contact (account_id, lower(last_name), lower(first_name), id);
CREATE INDEX contact_name_order_idx ON contact (lower(last_name), lower(first_name), id);
CREATE INDEX contact_name_trgm ON contact USING gin (full_name gin_trgm_ops);
CREATE INDEX contact_owner_idx ON contact (owner_id);

CREATE TABLE contact_phone (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id  bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
    kind        text NOT NULL DEFAULT 'work'
                CHECK (kind IN ('work', 'mobile', 'home', 'fax', 'switchboard', 'other')),
    raw         text NOT NULL CHECK (length(raw) BETWEEN 1 AND 60),
    e164        text CHECK (e164 ~ '^\+[1-9][0-9]{4,14}$'),
    is_primary  boolean NOT NULL DEFAULT false,
    position    smallint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_phone_contact_idx ON contact_phone (contact_id, position);
CREATE INDEX contact_phone_e164_idx ON contact_phone (e164);
-- Caller ID sometimes gives only the last 7-10 digits: match on the reversed number's prefix.
CREATE INDEX contact_phone_suffix_idx ON contact_phone (reverse(e164) text_pattern_ops);

CREATE TABLE contact_email (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id  bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
    kind        text NOT NULL DEFAULT 'work' CHECK (kind IN ('work', 'personal', 'other')),
    email       text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    is_primary  boolean NOT NULL DEFAULT false,
    position    smallint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_email_contact_idx ON contact_email (contact_id, position);
CREATE INDEX contact_email_lower_idx ON contact_email (lower(email));

CREATE TABLE relationship_type (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           text NOT NULL UNIQUE CHECK (key ~ '^[a-z_]{1,40}$'),
    label         text NOT NULL,          -- from -> to: "reports to"
    inverse_label text NOT NULL,          -- to -> from: "manages"
    is_symmetric  boolean NOT NULL DEFAULT false
);
INSERT INTO relationship_type (key, label, inverse_label, is_symmetric) VALUES
    ('reports_to', 'reports to', 'manages', false),
    ('assistant_of', 'assistant of', 'has assistant', false),
    ('spouse_of', 'spouse of', 'spouse of', true),
    ('parent_of', 'parent of', 'child of', false),
    ('guardian_of', 'guardian of', 'ward of', false),
    ('teacher_of', 'teacher of', 'pupil of', false),
    ('colleague_of', 'colleague of', 'colleague of', true),
    ('referred_by', 'referred by', 'referred', false);

CREATE TABLE contact_relationship (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_contact_id bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
    to_contact_id   bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
    type_id         bigint NOT NULL REFERENCES relationship_type(id),
    note            text CHECK (length(note) <= 2000),
    starts_on       date,
    ends_on         date,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1,
    deleted_at      timestamptz,
    CHECK (from_contact_id <> to_contact_id),
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX contact_relationship_from_idx ON contact_relationship (from_contact_id);
CREATE INDEX contact_relationship_to_idx ON contact_relationship (to_contact_id);

-- ---------------------------------------------------------------------------------------------
-- Sales process

CREATE TABLE pipeline (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1,
    deleted_at  timestamptz
);

CREATE TABLE stage (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pipeline_id   bigint NOT NULL REFERENCES pipeline(id),
    name          text NOT NULL,
    position      smallint NOT NULL,
    probability   smallint NOT NULL CHECK (probability BETWEEN 0 AND 100),
    is_won        boolean NOT NULL DEFAULT false,
    is_lost       boolean NOT NULL DEFAULT false,
    exit_criteria text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       integer NOT NULL DEFAULT 1,
    deleted_at    timestamptz,
    UNIQUE (pipeline_id, position),
    CHECK (NOT (is_won AND is_lost))
);

CREATE TABLE campaign (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    kind        text NOT NULL DEFAULT 'email'
                CHECK (kind IN ('email', 'webinar', 'event', 'call', 'ads', 'direct_mail')),
    status      text NOT NULL DEFAULT 'planned'
                CHECK (status IN ('planned', 'active', 'completed', 'cancelled')),
    starts_on   date,
    ends_on     date,
    budget      numeric(18, 2) CHECK (budget >= 0),
    cost        numeric(18, 2) CHECK (cost >= 0),
    currency    char(3) NOT NULL DEFAULT 'EUR',
    owner_id    bigint REFERENCES app_user(id) DEFAULT current_app_user_id(),
    team_id     bigint REFERENCES team(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1,
    deleted_at  timestamptz
);

CREATE TABLE campaign_member (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id bigint NOT NULL REFERENCES campaign(id) ON DELETE CASCADE,
    contact_id  bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
    status      text NOT NULL DEFAULT 'invited'
                CHECK (status IN ('invited', 'sent', 'responded', 'attended', 'declined',
                                  'unsubscribed')),
    responded_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1,
    UNIQUE (campaign_id, contact_id)
);
CREATE INDEX campaign_member_contact_idx ON campaign_member (contact_id);

CREATE TABLE opportunity (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id         bigint NOT NULL REFERENCES account(id),
    primary_contact_id bigint REFERENCES contact(id),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    amount             numeric(18, 2) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    currency           char(3) NOT NULL DEFAULT 'EUR',
    stage_id           bigint NOT NULL REFERENCES stage(id),
    probability        smallint NOT NULL CHECK (probability BETWEEN 0 AND 100),
    expected_close     date,
    forecast_category  text NOT NULL DEFAULT 'pipeline'
                       CHECK (forecast_category IN ('omitted', 'pipeline', 'best_case',
                                                    'commit', 'closed')),
    is_closed          boolean NOT NULL DEFAULT false,
    is_won             boolean NOT NULL DEFAULT false,
    closed_at          timestamptz,
    lost_reason        text,
    campaign_id        bigint REFERENCES campaign(id),
    owner_id           bigint REFERENCES app_user(id) DEFAULT current_app_user_id(),
    team_id            bigint REFERENCES team(id),
    custom             jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    version            integer NOT NULL DEFAULT 1,
    deleted_at         timestamptz
);
CREATE INDEX opportunity_account_idx ON opportunity (account_id) WHERE NOT is_closed;
CREATE INDEX opportunity_account_all_idx ON opportunity (account_id, expected_close);
CREATE INDEX opportunity_board_idx ON opportunity (stage_id, amount DESC, id) WHERE NOT is_closed;
CREATE INDEX opportunity_owner_idx ON opportunity (owner_id);
CREATE INDEX opportunity_contact_idx ON opportunity (primary_contact_id);
CREATE INDEX opportunity_campaign_idx ON opportunity (campaign_id);

CREATE TABLE support_case (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint REFERENCES account(id),
    contact_id  bigint REFERENCES contact(id),
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
    description text,
    status      text NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'open', 'waiting', 'resolved', 'closed')),
    priority    text NOT NULL DEFAULT 'normal'
                CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    assignee_id bigint REFERENCES app_user(id),
    due_at      timestamptz,
    resolution  text,
    closed_at   timestamptz,
    owner_id    bigint REFERENCES app_user(id) DEFAULT current_app_user_id(),
    team_id     bigint REFERENCES team(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1,
    deleted_at  timestamptz,
    CHECK (account_id IS NOT NULL OR contact_id IS NOT NULL)
);
CREATE INDEX support_case_account_idx ON support_case (account_id) WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX support_case_contact_idx ON support_case (contact_id) WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX support_case_assignee_idx ON support_case (assignee_id, due_at);

-- ---------------------------------------------------------------------------------------------
-- The system of record

CREATE TABLE activity (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_uuid      uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    kind             text NOT NULL
                     CHECK (kind IN ('call', 'email', 'meeting', 'note', 'task', 'webinar',
                                     'letter', 'sms')),
    direction        text CHECK (direction IN ('in', 'out')),
    subject          text NOT NULL DEFAULT '' CHECK (length(subject) <= 500),
    body             text CHECK (length(body) <= 100000),
    occurred_at      timestamptz NOT NULL DEFAULT now(),
    duration_seconds integer CHECK (duration_seconds >= 0),
    outcome          text CHECK (outcome IN ('reached', 'voicemail', 'no_answer', 'busy',
                                             'wrong_number', 'callback', 'completed',
                                             'cancelled')),
    due_at           timestamptz,
    completed_at     timestamptz,
    author_id        bigint REFERENCES app_user(id) DEFAULT current_app_user_id(),
    assignee_id      bigint REFERENCES app_user(id),
    account_id       bigint REFERENCES account(id),
    contact_id       bigint REFERENCES contact(id),
    opportunity_id   bigint REFERENCES opportunity(id),
    case_id          bigint REFERENCES support_case(id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    version          integer NOT NULL DEFAULT 1,
    deleted_at       timestamptz
);
-- Timelines: newest first, keyset on (occurred_at, id).
CREATE INDEX activity_account_time_idx ON activity (account_id, occurred_at DESC, id DESC);
CREATE INDEX activity_contact_time_idx ON activity (contact_id, occurred_at DESC, id DESC);
CREATE INDEX activity_opportunity_time_idx ON activity (opportunity_id, occurred_at DESC, id DESC);
CREATE INDEX activity_case_time_idx ON activity (case_id, occurred_at DESC, id DESC);
CREATE INDEX activity_author_time_idx ON activity (author_id, occurred_at DESC, id DESC);
-- My day: open follow-ups per assignee by due date.
CREATE INDEX activity_followup_idx ON activity (assignee_id, due_at)
    WHERE completed_at IS NULL AND due_at IS NOT NULL AND deleted_at IS NULL;

-- ---------------------------------------------------------------------------------------------
-- Customisation, vocabulary, documents, views

CREATE TABLE tag (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    colour     text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tag_name_key ON tag (lower(name));

CREATE TABLE contact_tag (
    contact_id bigint NOT NULL REFERENCES contact(id) ON DELETE CASCADE,
    tag_id     bigint NOT NULL REFERENCES tag(id) ON DELETE CASCADE,
    PRIMARY KEY (contact_id, tag_id)
);
CREATE INDEX contact_tag_tag_idx ON contact_tag (tag_id);

CREATE TABLE account_tag (
    account_id bigint NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    tag_id     bigint NOT NULL REFERENCES tag(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, tag_id)
);
CREATE INDEX account_tag_tag_idx ON account_tag (tag_id);

CREATE TABLE custom_field (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity     text NOT NULL CHECK (entity IN ('account', 'contact', 'opportunity')),
    key        text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    label      text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    type       text NOT NULL CHECK (type IN ('text', 'number', 'date', 'bool', 'choice')),
    choices    jsonb,
    required   boolean NOT NULL DEFAULT false,
    position   smallint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    integer NOT NULL DEFAULT 1,
    deleted_at timestamptz,
    UNIQUE (entity, key)
);

CREATE TABLE glossary_term (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    term       text NOT NULL CHECK (length(term) BETWEEN 1 AND 200),
    definition text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    integer NOT NULL DEFAULT 1,
    deleted_at timestamptz
);
CREATE UNIQUE INDEX glossary_term_key ON glossary_term (lower(term));

CREATE TABLE document (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    filename       text NOT NULL CHECK (length(filename) BETWEEN 1 AND 500),
    mime_type      text,
    size_bytes     bigint CHECK (size_bytes >= 0),
    content        bytea,
    uri            text,
    account_id     bigint REFERENCES account(id),
    contact_id     bigint REFERENCES contact(id),
    opportunity_id bigint REFERENCES opportunity(id),
    case_id        bigint REFERENCES support_case(id),
    owner_id       bigint REFERENCES app_user(id) DEFAULT current_app_user_id(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1,
    deleted_at     timestamptz,
    CHECK (content IS NOT NULL OR uri IS NOT NULL)
);
CREATE INDEX document_account_idx ON document (account_id);
CREATE INDEX document_contact_idx ON document (contact_id);

CREATE TABLE saved_view (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id   bigint REFERENCES app_user(id) DEFAULT current_app_user_id(),
    screen     text NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    definition jsonb NOT NULL DEFAULT '{}'::jsonb,
    shared     boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    integer NOT NULL DEFAULT 1,
    deleted_at timestamptz
);

-- ---------------------------------------------------------------------------------------------
-- Sharing (DESIGN.md section 4): organisation-wide defaults and explicit account shares.

CREATE TABLE sharing_default (
    object_type text PRIMARY KEY
                CHECK (object_type IN ('account', 'contact', 'opportunity', 'activity',
                                       'support_case', 'campaign')),
    access      text NOT NULL DEFAULT 'public_read_write'
                CHECK (access IN ('public_read_write', 'public_read', 'private')),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1
);
INSERT INTO sharing_default (object_type, access) VALUES
    ('account', 'public_read_write'), ('contact', 'public_read_write'),
    ('opportunity', 'public_read_write'), ('activity', 'public_read_write'),
    ('support_case', 'public_read_write'), ('campaign', 'public_read');

CREATE TABLE account_share (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    user_id    bigint REFERENCES app_user(id),
    team_id    bigint REFERENCES team(id),
    access     text NOT NULL DEFAULT 'read' CHECK (access IN ('read', 'write')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE UNIQUE INDEX account_share_user_key ON account_share (account_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX account_share_team_key ON account_share (account_id, team_id) WHERE team_id IS NOT NULL;
CREATE INDEX account_share_user_idx ON account_share (user_id);
CREATE INDEX account_share_team_idx ON account_share (team_id);

-- ---------------------------------------------------------------------------------------------
-- Audit trail (written by triggers; see the security migration)

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text NOT NULL DEFAULT session_user,
    txid        bigint NOT NULL DEFAULT txid_current(),
    table_name  text NOT NULL,
    row_id      bigint NOT NULL,
    op          char(1) NOT NULL CHECK (op IN ('I', 'U', 'D')),
    old_values  jsonb,
    new_values  jsonb,
    account_id  bigint
);
CREATE INDEX audit_log_row_idx ON audit_log (table_name, row_id, at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, at DESC, id DESC);
CREATE INDEX audit_log_at_idx ON audit_log USING brin (at);

-- ---------------------------------------------------------------------------------------------
-- Default pipeline (the formal sales process)

INSERT INTO pipeline (name, is_default) VALUES ('Sales', true);
INSERT INTO stage (pipeline_id, name, position, probability, is_won, is_lost, exit_criteria)
SELECT p.id, s.name, s.position, s.probability, s.is_won, s.is_lost, s.exit_criteria
FROM pipeline p, (VALUES
    ('Qualify', 1, 10, false, false, 'Budget, authority, need and timeline confirmed'),
    ('Discover', 2, 25, false, false, 'Pain and decision process documented'),
    ('Proposal', 3, 50, false, false, 'Proposal sent to the decision maker'),
    ('Negotiate', 4, 75, false, false, 'Terms agreed in principle'),
    ('Won', 5, 100, true, false, 'Contract signed'),
    ('Lost', 6, 0, false, true, 'Lost reason recorded')
) AS s(name, position, probability, is_won, is_lost, exit_criteria)
WHERE p.name = 'Sales';

-- ---------------------------------------------------------------------------------------------
-- Triggers that keep updated_at/version

DO $touch$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['team', 'app_user', 'account', 'contact', 'contact_relationship',
                             'pipeline', 'stage', 'campaign', 'campaign_member', 'opportunity',
                             'support_case', 'activity', 'custom_field', 'glossary_term',
                             'document', 'saved_view', 'sharing_default']
    LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION touch_row()',
                       t || '_touch', t);
    END LOOP;
END
$touch$;

-- ---------------------------------------------------------------------------------------------
-- Baseline privileges (refined per group role by the security migration)

GRANT SELECT ON ALL TABLES IN SCHEMA {{schema}} TO {{roles}}_user;
REVOKE SELECT ON audit_log FROM {{roles}}_user;
