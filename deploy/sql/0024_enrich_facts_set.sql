-- 0024 enrich_apply_fast (0022) writes the many-valued facts - products
-- and competitors, nearly every fact a conversation yields - in one
-- statement after its per-item loop instead of one INSERT each inside it.
-- They are never judged against each other (each is current; a repeat of
-- the same event, field and value is dropped), so only the single-valued
-- ones (budget, delivery date), each judged against the current fact of
-- its field, stay in the loop, in item order. Same rows and answers
-- (tests/integration/itest_enrich.c compares them with 0004's reference);
-- the facts of one batch are numbered in a different order (ids are not
-- part of a fact's meaning: readers order by time).
-- Measured (session 17, 800-customer quarter, 14,975 facts of 53,874
-- interactions): see docs/benchmarks.md.

CREATE OR REPLACE FUNCTION enrich_apply_fast(docs jsonb) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    x        record;
    n        int := 0;
    v_at     timestamptz;
    v_kind   text;
    v_val    text;
    v_rep    text;
    v_lvl    smallint;
    v_cust   text;
    v_cont   text;
    v_deal   text;
    v_is_new boolean;
    v_sc     jsonb;
    v_f      jsonb;
    v_cur    record;
    v_st     text;
    v_role   text;
    v_title  text;
    v_known  boolean;
    v_made   boolean;
    v_read   boolean;
    v_j      int;
    r_cont   text;
    r_cust   text;
    r_role   text;
    r_title  text;
    -- per item, read for the whole batch before the loop: its keys, its
    -- customer ref resolved, and its identity's contact (customer, role,
    -- title); refreshed for later items when an item creates or changes one
    k_ref    text[];
    k_kind   text[];
    k_val    text[];
    p_ref    text[];
    p_cont   text[];
    p_icust  text[];
    p_role   text[];
    p_title  text[];
    v_stage  text;
    v_prole  text;
    v_ptitle text;
    v_fresh  boolean[];
    v_first  int[];
    -- per item: what it resolved (the answer and the deferred writes read these)
    a_cust   text[] := '{}';
    a_cont   text[] := '{}';
    a_deal   text[] := '{}';
    a_new    boolean[] := '{}';
    a_stage  text[] := '{}';
    a_role   text[] := '{}';
    v_out    json;
BEGIN
    -- idempotency by event id for the whole batch: an item is applied when
    -- its id is new and it is the first of its id in the batch
    WITH d AS (SELECT e.ev, e.ord FROM ROWS FROM (jsonb_to_recordset(docs) AS (event_id text)) WITH ORDINALITY e(ev, ord)),
         ins AS (INSERT INTO processed_events (consumer, event_id) SELECT DISTINCT 'sp-enrich', ev FROM d
                 ON CONFLICT DO NOTHING RETURNING event_id)
    SELECT array_agg(i.event_id IS NOT NULL AND f.ord = f.first ORDER BY f.ord), array_agg(f.first ORDER BY f.ord)
      INTO v_fresh, v_first
      FROM (SELECT ev, ord, min(ord) OVER (PARTITION BY ev) AS first FROM d) f LEFT JOIN ins i ON i.event_id = f.ev;

    -- every item's customer ref and identity looked up in one statement
    -- (one lookup per item was 9 us of statement overhead each); each a
    -- LIMIT 1 lateral (both keys are unique), so it stays an index lookup
    -- per item whatever the statistics say (see the top of this file)
    SELECT array_agg(t.r ORDER BY t.ord), array_agg(t.k ORDER BY t.ord), array_agg(t.v ORDER BY t.ord),
           array_agg(rc.id ORDER BY t.ord), array_agg(ic.cont ORDER BY t.ord), array_agg(ic.cust ORDER BY t.ord),
           array_agg(ic.role ORDER BY t.ord), array_agg(ic.title ORDER BY t.ord)
      INTO k_ref, k_kind, k_val, p_ref, p_cont, p_icust, p_role, p_title
      FROM (SELECT nullif(e.r, '') r, nullif(e.k, '') k, nullif(e.v, '') v, e.ord
              FROM ROWS FROM (jsonb_to_recordset(docs) AS (customer_ref text, id_kind text, id_value text))
                   WITH ORDINALITY e(r, k, v, ord)) t
      LEFT JOIN LATERAL (SELECT coalesce(cu.merged_into, cu.id) AS id FROM customers cu WHERE cu.id = t.r LIMIT 1) rc ON true
      LEFT JOIN LATERAL (SELECT c.id AS cont, coalesce(cu.merged_into, c.customer_id) AS cust, c.role, c.title
                           FROM identities i JOIN contacts c ON c.id = i.contact_id
                           JOIN customers cu ON cu.id = c.customer_id
                          WHERE i.kind = t.k AND i.value = t.v LIMIT 1) ic ON true;

    FOR x IN SELECT * FROM jsonb_to_recordset(docs) AS t(event_id text, occurred_at_ms bigint, id_kind text,
                 id_value text, rep_id text, level smallint, deal_id text, stage_change jsonb, party_role text,
                 party_title text, party_name text, customer_ref text, channel text, facts jsonb, core_need text,
                 concern text, concern_tag text, concern_severity smallint) LOOP
        n := n + 1;
        v_rep := nullif(x.rep_id, '');
        IF NOT v_fresh[n] THEN
            -- applied before: in an earlier batch, or earlier in this one
            IF v_first[n] < n THEN
                v_cust := a_cust[v_first[n]];
                v_cont := a_cont[v_first[n]];
                v_deal := a_deal[v_first[n]];
            ELSE
                SELECT customer_id, contact_id, deal_id INTO v_cust, v_cont, v_deal
                  FROM interactions WHERE event_id = x.event_id LIMIT 1;
            END IF;
            a_cust[n] := v_cust;
            a_cont[n] := v_cont;
            a_deal[n] := v_deal;
            a_new[n] := false;
            a_stage[n] := (SELECT stage FROM deals WHERE id = v_deal);
            a_role[n] := (SELECT role FROM contacts WHERE id = v_cont);
            CONTINUE;
        END IF;
        v_at := to_timestamp(x.occurred_at_ms / 1000.0);
        v_kind := nullif(x.id_kind, '');
        v_val := nullif(x.id_value, '');
        v_lvl := coalesce(x.level, 1);
        v_cust := NULL;
        v_cont := NULL;
        v_deal := nullif(x.deal_id, '');
        v_is_new := false;
        v_sc := x.stage_change;
        v_role := NULL;
        v_title := NULL;
        v_known := false;
        v_made := false;
        v_stage := NULL;
        v_prole := nullif(x.party_role, '');
        v_ptitle := coalesce(x.party_title, '');

        -- identity resolution: customer ref, then identity, then e-mail domain, else a new lead
        IF coalesce(x.customer_ref, '') <> '' THEN
            v_cust := p_ref[n];
        END IF;
        IF v_kind IS NOT NULL AND v_val IS NOT NULL THEN
            v_cont := p_cont[n];
            v_st := p_icust[n];
            v_role := p_role[n];
            v_title := p_title[n];
            v_known := v_cont IS NOT NULL;
            IF v_cust IS NULL THEN v_cust := v_st; END IF;
        END IF;
        IF v_cust IS NULL AND v_kind = 'email' THEN
            SELECT id INTO v_cust FROM customers
             WHERE email_domain = split_part(v_val, '@', 2) AND merged_into IS NULL ORDER BY created_at, id LIMIT 1;
        END IF;
        IF v_cust IS NULL AND (v_val IS NOT NULL OR coalesce(x.customer_ref, '') <> '') THEN
            v_cust := coalesce(nullif(x.customer_ref, ''), 'L-' || substr(md5(v_kind || ':' || v_val), 1, 16));
            INSERT INTO customers (id, name, owner_rep_id, email_domain, is_lead, created_at)
            VALUES (v_cust, coalesce(x.party_name, ''), v_rep,
                    CASE WHEN v_kind = 'email' THEN split_part(v_val, '@', 2) END, true, v_at)
            ON CONFLICT (id) DO NOTHING;
            v_is_new := FOUND;
            IF v_is_new THEN -- later items naming it find it
                FOREACH v_j IN ARRAY coalesce(array_positions(k_ref, v_cust), '{}') LOOP
                    IF v_j > n THEN p_ref[v_j] := v_cust; END IF;
                END LOOP;
            END IF;
        END IF;
        IF v_cust IS NOT NULL AND v_cont IS NULL AND v_val IS NOT NULL THEN
            v_cont := 'K-' || substr(md5(v_kind || ':' || v_val), 1, 16);
            INSERT INTO contacts (id, customer_id, name, title, role, created_at)
            VALUES (v_cont, v_cust, coalesce(x.party_name, ''), v_ptitle, v_prole, v_at)
            ON CONFLICT (id) DO NOTHING;
            INSERT INTO identities (kind, value, contact_id) VALUES (v_kind, v_val, v_cont) ON CONFLICT DO NOTHING;
            SELECT role, title INTO v_role, v_title FROM contacts WHERE id = v_cont;
            v_known := FOUND;
            v_made := true;
        END IF;
        -- role and title are read by later items: written now, and only when
        -- they change (known from the row read above: no statement otherwise)
        IF v_cont IS NOT NULL AND (v_prole IS NOT NULL OR v_ptitle <> '')
           AND (NOT v_known OR (v_role IS NULL AND v_prole IS NOT NULL) OR (v_title = '' AND v_ptitle <> '')) THEN
            UPDATE contacts SET role = coalesce(role, v_prole),
                   title = CASE WHEN title = '' THEN v_ptitle ELSE title END
             WHERE id = v_cont AND ((role IS NULL AND v_prole IS NOT NULL) OR (title = '' AND v_ptitle <> ''))
            RETURNING role, title INTO v_role, v_title;
            IF NOT FOUND THEN
                SELECT role, title INTO v_role, v_title FROM contacts WHERE id = v_cont;
            END IF;
            v_made := true;
        END IF;
        -- a contact created or changed: later items of its identity or of
        -- the contact read what the lookups above would read now
        IF v_made THEN
            v_read := false;
            FOREACH v_j IN ARRAY coalesce(array_positions(k_val, v_val), '{}') LOOP
                IF v_j > n AND k_kind[v_j] = v_kind THEN
                    IF NOT v_read THEN
                        SELECT c.id, coalesce(cu.merged_into, c.customer_id), c.role, c.title
                          INTO r_cont, r_cust, r_role, r_title
                          FROM identities i JOIN contacts c ON c.id = i.contact_id
                          JOIN customers cu ON cu.id = c.customer_id
                         WHERE i.kind = v_kind AND i.value = v_val;
                        v_read := true;
                    END IF;
                    p_cont[v_j] := r_cont;
                    p_icust[v_j] := r_cust;
                    p_role[v_j] := r_role;
                    p_title[v_j] := r_title;
                END IF;
            END LOOP;
            FOREACH v_j IN ARRAY coalesce(array_positions(p_cont, v_cont), '{}') LOOP
                IF v_j > n THEN
                    p_role[v_j] := v_role;
                    p_title[v_j] := v_title;
                END IF;
            END LOOP;
        END IF;

        -- the deal: a CRM stage change creates or moves it; otherwise the customer's open deal
        IF v_sc IS NOT NULL AND v_cust IS NOT NULL THEN
            v_deal := v_sc->>'deal_id';
            INSERT INTO deals (id, customer_id, name, stage, stage_since, amount, owner_rep_id, product_ids, is_open,
                               created_at, last_status_update_at)
            VALUES (v_deal, v_cust, coalesce(v_sc->>'deal_name', ''), v_sc->>'to_stage', v_at, coalesce((v_sc->>'amount')::bigint, 0),
                    v_rep, ARRAY(SELECT jsonb_array_elements_text(coalesce(v_sc->'product_ids', '[]'))),
                    v_sc->>'to_stage' NOT IN ('won', 'lost'), v_at, v_at)
            ON CONFLICT (id) DO UPDATE
               SET stage = EXCLUDED.stage,
                   stage_since = CASE WHEN deals.stage <> EXCLUDED.stage THEN EXCLUDED.stage_since ELSE deals.stage_since END,
                   amount = CASE WHEN EXCLUDED.amount > 0 THEN EXCLUDED.amount ELSE deals.amount END,
                   is_open = EXCLUDED.is_open,
                   last_status_update_at = greatest(deals.last_status_update_at, EXCLUDED.last_status_update_at)
             WHERE deals.stage_since <= EXCLUDED.stage_since; -- a stale, out-of-order change does not move it back
            INSERT INTO deal_stage_history (deal_id, event_id, from_stage, to_stage, at)
            VALUES (v_deal, x.event_id, coalesce(nullif(v_sc->>'from_stage', ''), ''), v_sc->>'to_stage', v_at) ON CONFLICT DO NOTHING;
        ELSIF v_deal IS NULL AND v_cust IS NOT NULL THEN
            -- the customer's open deal, with its stage (deals_customer_open)
            SELECT id, stage INTO v_deal, v_stage FROM deals
             WHERE customer_id = v_cust AND is_open ORDER BY created_at DESC, id LIMIT 1;
        END IF;
        IF v_deal IS NOT NULL AND v_stage IS NULL THEN
            SELECT stage INTO v_stage FROM deals WHERE id = v_deal;
            IF NOT FOUND THEN
                v_deal := NULL; -- a deal id the CRM never announced
            END IF;
        END IF;

        IF v_cust IS NOT NULL THEN
            -- facts with provenance
            -- single-valued facts (budget, delivery date) here, in order:
            -- each is judged against the current one; the others (products,
            -- competitors) after the loop, in one statement
            IF x.facts IS NOT NULL AND jsonb_array_length(x.facts) > 0 AND x.facts @> '[{"single": true}]' THEN
                FOR v_f IN SELECT value FROM jsonb_array_elements(x.facts) LOOP
                    IF (v_f->>'single')::boolean THEN
                        SELECT id, level, value, occurred_at INTO v_cur FROM facts
                         WHERE customer_id = v_cust AND field = v_f->>'field' AND status = 'current'
                         ORDER BY level DESC, occurred_at DESC LIMIT 1;
                        IF v_cur.id IS NULL OR v_lvl > v_cur.level OR (v_lvl = v_cur.level AND v_at >= v_cur.occurred_at) THEN
                            IF v_cur.id IS NOT NULL THEN
                                UPDATE facts SET status = 'superseded' WHERE id = v_cur.id;
                            END IF;
                            v_st := 'current';
                        ELSIF v_lvl = v_cur.level OR v_cur.value = v_f->'value' THEN
                            v_st := 'superseded'; -- older statement, or agrees with a higher level
                        ELSE
                            v_st := 'conflict';   -- a lower level disagreeing: kept and visible
                        END IF;
                        INSERT INTO facts (customer_id, deal_id, field, value, level, status, source_event_id, source_channel,
                                           quote, occurred_at)
                        VALUES (v_cust, v_deal, v_f->>'field', v_f->'value', v_lvl, v_st, x.event_id, x.channel,
                                coalesce(v_f->>'quote', ''), v_at)
                        ON CONFLICT (source_event_id, field, value) DO NOTHING;
                    END IF;
                END LOOP;
            END IF;

            -- the card's core need and biggest concern, in the customer's words
            IF coalesce(x.core_need, '') <> '' OR coalesce(x.concern, '') <> '' THEN
                INSERT INTO customer_cards (customer_id, updated_at) VALUES (v_cust, v_at) ON CONFLICT DO NOTHING;
            END IF;
            IF coalesce(x.core_need, '') <> '' THEN
                UPDATE customer_cards SET core_need = x.core_need, core_need_source = x.event_id, core_need_level = v_lvl,
                       updated_at = greatest(updated_at, v_at)
                 WHERE customer_id = v_cust AND core_need_level <= v_lvl;
            END IF;
            IF coalesce(x.concern, '') <> '' THEN
                UPDATE customer_cards SET concern = x.concern, concern_tag = coalesce(x.concern_tag, ''),
                       concern_severity = coalesce(x.concern_severity, 1), concern_source = x.event_id,
                       concern_at = v_at, updated_at = greatest(updated_at, v_at)
                 WHERE customer_id = v_cust
                   AND (concern_severity <= coalesce(x.concern_severity, 1)
                        OR concern_at IS NULL OR concern_at < v_at - interval '30 days');
            END IF;
        END IF;

        a_cust[n] := v_cust;
        a_cont[n] := v_cont;
        a_deal[n] := v_deal;
        a_new[n] := v_is_new;
        a_stage[n] := v_stage;
        a_role[n] := v_role;
    END LOOP;

    -- the many-valued facts of the items applied (each current: they are
    -- not judged against each other), in item order
    INSERT INTO facts (customer_id, deal_id, field, value, level, status, source_event_id, source_channel, quote,
                       occurred_at)
    SELECT u.cust, u.deal, f.v->>'field', f.v->'value', coalesce(e.level, 1), 'current', e.event_id, e.channel,
           coalesce(f.v->>'quote', ''), to_timestamp(e.occurred_at_ms / 1000.0)
      FROM ROWS FROM (jsonb_to_recordset(docs) AS (event_id text, occurred_at_ms bigint, level smallint, channel text,
                      facts jsonb))
           WITH ORDINALITY e(event_id, occurred_at_ms, level, channel, facts, ord)
      JOIN unnest(a_cust, a_deal, v_fresh) WITH ORDINALITY u(cust, deal, fresh, ord) ON u.ord = e.ord
      CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(e.facts) = 'array' THEN e.facts END)
           WITH ORDINALITY f(v, k)
     WHERE u.fresh AND u.cust IS NOT NULL AND NOT coalesce((f.v->>'single')::boolean, false)
     ORDER BY e.ord, f.k
    ON CONFLICT (source_event_id, field, value) DO NOTHING;

    -- the deferred writes of the items applied, one per row
    INSERT INTO interactions (event_id, occurred_at, source, external_id, channel, direction, customer_id, contact_id,
                              deal_id, rep_id, customer_side, activity_kind, quality_passed, credibility, text, extraction)
    SELECT e.event_id, to_timestamp(e.occurred_at_ms / 1000.0), coalesce(e.source, ''),
           coalesce(e.external_id, ''), e.channel, e.direction, u.cust, u.cont, u.deal,
           nullif(e.rep_id, ''), coalesce(e.customer_side, false),
           nullif(e.activity_kind, ''), e.quality_passed,
           coalesce(e.level, 1), coalesce(e.text, ''), coalesce(e.extraction, '{}')
      FROM ROWS FROM (jsonb_to_recordset(docs) AS (event_id text, occurred_at_ms bigint, source text, external_id text,
                      channel text, direction text, rep_id text, customer_side boolean, activity_kind text,
                      quality_passed boolean, level smallint, text text, extraction jsonb))
           WITH ORDINALITY e(event_id, occurred_at_ms, source, external_id, channel, direction, rep_id, customer_side,
                             activity_kind, quality_passed, level, text, extraction, ord)
      JOIN unnest(a_cust, a_cont, a_deal, v_fresh) WITH ORDINALITY u(cust, cont, deal, fresh, ord) ON u.ord = e.ord
     WHERE u.fresh
    ON CONFLICT DO NOTHING;

    UPDATE contacts c SET last_contact_at = greatest(c.last_contact_at, s.at)
      FROM (SELECT u.cont AS id, max(to_timestamp(e.ms / 1000.0)) AS at
              FROM ROWS FROM (jsonb_to_recordset(docs) AS (occurred_at_ms bigint)) WITH ORDINALITY e(ms, ord)
              JOIN unnest(a_cont, v_fresh) WITH ORDINALITY u(cont, fresh, ord) ON u.ord = e.ord
             WHERE u.fresh AND u.cont IS NOT NULL
             GROUP BY u.cont ORDER BY u.cont) s
     WHERE c.id = s.id;

    UPDATE deals dl
       SET last_activity_at = greatest(dl.last_activity_at, s.at),
           last_status_update_at = greatest(dl.last_status_update_at, s.status_at),
           next_step = coalesce(s.step, dl.next_step),
           next_step_due = coalesce(s.due, dl.next_step_due)
      FROM (SELECT id, max(at) AS at, max(at) FILTER (WHERE rep) AS status_at,
                   (array_agg(step ORDER BY ord DESC) FILTER (WHERE step IS NOT NULL))[1] AS step,
                   (array_agg(due ORDER BY ord DESC) FILTER (WHERE due IS NOT NULL))[1] AS due
              FROM (SELECT u.deal AS id, to_timestamp(e.ms / 1000.0) AS at,
                           coalesce(e.rep_update, false) AS rep, nullif(e.next_step, '') AS step,
                           to_timestamp(e.due_ms / 1000.0) AS due, e.ord
                      FROM ROWS FROM (jsonb_to_recordset(docs) AS (occurred_at_ms bigint, rep_update boolean,
                                      next_step text, next_step_due_ms bigint))
                           WITH ORDINALITY e(ms, rep_update, next_step, due_ms, ord)
                      JOIN unnest(a_deal, v_fresh) WITH ORDINALITY u(deal, fresh, ord) ON u.ord = e.ord
                     WHERE u.fresh AND u.deal IS NOT NULL) w
             GROUP BY id ORDER BY id) s
     WHERE dl.id = s.id;

    -- last interaction: the latest by time, the later item on a tie (as item by item)
    UPDATE customers cu
       SET last_interaction_id = CASE WHEN cu.last_interaction_at IS NULL OR s.at >= cu.last_interaction_at
                                      THEN s.ev ELSE cu.last_interaction_id END,
           last_interaction_at = greatest(cu.last_interaction_at, s.at),
           last_inbound_at = greatest(cu.last_inbound_at, s.in_at),
           last_outbound_at = greatest(cu.last_outbound_at, s.out_at)
      FROM (SELECT id, (array_agg(at ORDER BY at DESC, ord DESC))[1] AS at,
                   (array_agg(ev ORDER BY at DESC, ord DESC))[1] AS ev,
                   max(at) FILTER (WHERE dir = 'inbound') AS in_at,
                   max(at) FILTER (WHERE dir = 'outbound') AS out_at
              FROM (SELECT u.cust AS id, to_timestamp(e.ms / 1000.0) AS at,
                           e.event_id AS ev, e.direction AS dir, e.ord
                      FROM ROWS FROM (jsonb_to_recordset(docs) AS (occurred_at_ms bigint, event_id text, direction text,
                                      touch boolean))
                           WITH ORDINALITY e(ms, event_id, direction, touch, ord)
                      JOIN unnest(a_cust, v_fresh) WITH ORDINALITY u(cust, fresh, ord) ON u.ord = e.ord
                     WHERE u.fresh AND u.cust IS NOT NULL AND coalesce(e.touch, true)) w
             GROUP BY id ORDER BY id) s
     WHERE cu.id = s.id;

    -- the answers: what each item resolved, with its customer's static context
    SELECT json_agg(CASE WHEN u.fresh THEN
               json_build_object(
               'customer_id', u.cust, 'contact_id', u.cont, 'deal_id', u.deal, 'new_customer', u.is_new,
               'deal_stage', u.stage,
               'owner_rep_id', c.owner_rep_id, 'industry', c.industry, 'class', c.class,
               'contact_role', u.role,
               'team_id', p.team_id, 'region_id', coalesce(p.region_id, t.region_id))
             ELSE
               json_build_object(
               'customer_id', u.cust, 'contact_id', u.cont, 'deal_id', u.deal, 'new_customer', u.is_new,
               'deal_stage', u.stage,
               'owner_rep_id', c.owner_rep_id, 'industry', c.industry, 'class', c.class,
               'contact_role', u.role,
               'team_id', p.team_id, 'region_id', coalesce(p.region_id, t.region_id), 'duplicate', true)
             END ORDER BY u.ord)
      INTO v_out
      FROM unnest(a_cust, a_cont, a_deal, a_new, a_stage, a_role, v_fresh)
           WITH ORDINALITY AS u(cust, cont, deal, is_new, stage, role, fresh, ord)
      JOIN ROWS FROM (jsonb_to_recordset(docs) AS (rep_id text)) WITH ORDINALITY e(rep_id, ord) ON e.ord = u.ord
      LEFT JOIN LATERAL (SELECT cu.owner_rep_id, cu.industry, cu.class FROM customers cu WHERE cu.id = u.cust LIMIT 1) c ON true
      LEFT JOIN people p ON p.id = coalesce(nullif(e.rep_id, ''), c.owner_rep_id)
      LEFT JOIN teams t ON t.id = p.team_id;
    RETURN coalesce(v_out, '[]'::json);
END;
$$;
