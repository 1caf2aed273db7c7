-- 0011 enrich_apply_fast: enrich_apply_batch at stream speed, same results.
-- Measured on a realistic replay (tests/bench/bench_enrich.c) the batch
-- spent its time in (1) re-planning the SQL function enrich_context on
-- every call, (2) one subtransaction per item (500 per batch: subxid
-- overflow, multixacts on the FK-locked customer rows), (3) updating the
-- same customer / contact / deal rows once per interaction (a new row
-- version and, for indexed columns, new index entries each time) and (4)
-- single-row inserts into the partitioned interactions table.
-- enrich_apply_fast applies a whole batch with the per-item logic of
-- enrich_apply, except that the order-independent bookkeeping (last contact
-- / activity / interaction times, a deal's next step, the interaction rows)
-- is gathered and written once per row at the end of the batch, and the
-- static part of each item's context (owner, industry, class, team,
-- region) is read in one query. Nothing it defers is read back by a later
-- item, so every row and every answer equals what enrich_apply item by
-- item would give (checked on a replay: tests/bench/README in
-- docs/benchmarks.md). enrich_apply_batch runs it in one subtransaction;
-- if any item fails, it falls back to enrich_apply item by item (each in
-- its own subtransaction), so a bad item is still answered {"error": ...}
-- without undoing the others.

-- Same answer as 0004's SQL function; PL/pgSQL caches the plan.
CREATE OR REPLACE FUNCTION enrich_context(p_cust text, p_cont text, p_deal text, p_rep text, p_new boolean)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v jsonb;
BEGIN
    SELECT jsonb_build_object(
               'customer_id', p_cust, 'contact_id', p_cont, 'deal_id', p_deal, 'new_customer', p_new,
               'deal_stage', (SELECT stage FROM deals WHERE id = p_deal),
               'owner_rep_id', c.owner_rep_id, 'industry', c.industry, 'class', c.class,
               'contact_role', (SELECT role FROM contacts WHERE id = p_cont),
               'team_id', p.team_id, 'region_id', coalesce(p.region_id, t.region_id))
      INTO v
      FROM (SELECT 1) one
      LEFT JOIN customers c ON c.id = p_cust
      LEFT JOIN people p ON p.id = coalesce(p_rep, c.owner_rep_id)
      LEFT JOIN teams t ON t.id = p.team_id;
    RETURN v;
END;
$$;

CREATE OR REPLACE FUNCTION enrich_apply_fast(docs jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    d        jsonb;
    n        int := 0;
    v_ev     text;
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
    v_stage  text;
    v_prole  text;
    v_ptitle text;
    v_row    interactions;
    -- per item: what its answer needs
    a_cust   text[] := '{}';
    a_cont   text[] := '{}';
    a_deal   text[] := '{}';
    a_rep    text[] := '{}';
    a_new    boolean[] := '{}';
    a_stage  text[] := '{}';
    a_role   text[] := '{}';
    a_dup    boolean[] := '{}';
    -- deferred writes
    w_ix     interactions[] := '{}';
    w_cont   text[] := '{}';
    w_cont_at timestamptz[] := '{}';
    w_deal   text[] := '{}';
    w_deal_at timestamptz[] := '{}';
    w_deal_rep boolean[] := '{}';
    w_deal_step text[] := '{}';
    w_deal_due timestamptz[] := '{}';
    w_deal_ord int[] := '{}';
    w_cust   text[] := '{}';
    w_cust_at timestamptz[] := '{}';
    w_cust_ev text[] := '{}';
    w_cust_dir text[] := '{}';
    w_cust_ord int[] := '{}';
    v_out    jsonb;
BEGIN
    FOR d IN SELECT value FROM jsonb_array_elements(docs) LOOP
        n := n + 1;
        v_ev := d->>'event_id';
        v_at := to_timestamp((d->>'occurred_at_ms')::bigint / 1000.0);
        v_kind := nullif(d->>'id_kind', '');
        v_val := nullif(d->>'id_value', '');
        v_rep := nullif(d->>'rep_id', '');
        v_lvl := coalesce((d->>'level')::smallint, 1);
        v_cust := NULL;
        v_cont := NULL;
        v_deal := nullif(d->>'deal_id', '');
        v_is_new := false;
        v_sc := d->'stage_change';
        v_role := NULL;
        v_stage := NULL;
        v_prole := nullif(d->>'party_role', '');
        v_ptitle := coalesce(d->>'party_title', '');

        INSERT INTO processed_events (consumer, event_id) VALUES ('sp-enrich', v_ev) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            -- applied before (in an earlier batch, or earlier in this one)
            SELECT r.customer_id, r.contact_id, r.deal_id INTO v_cust, v_cont, v_deal
              FROM unnest(w_ix) r WHERE r.event_id = v_ev LIMIT 1;
            IF NOT FOUND THEN
                SELECT customer_id, contact_id, deal_id INTO v_cust, v_cont, v_deal
                  FROM interactions WHERE event_id = v_ev LIMIT 1;
            END IF;
            a_cust[n] := v_cust;
            a_cont[n] := v_cont;
            a_deal[n] := v_deal;
            a_rep[n] := v_rep;
            a_new[n] := false;
            a_stage[n] := (SELECT stage FROM deals WHERE id = v_deal);
            a_role[n] := (SELECT role FROM contacts WHERE id = v_cont);
            a_dup[n] := true;
            CONTINUE;
        END IF;

        -- identity resolution: customer ref, then identity, then e-mail domain, else a new lead
        IF coalesce(d->>'customer_ref', '') <> '' THEN
            SELECT coalesce(merged_into, id) INTO v_cust FROM customers WHERE id = d->>'customer_ref';
        END IF;
        IF v_kind IS NOT NULL AND v_val IS NOT NULL THEN
            SELECT c.id, coalesce(cu.merged_into, c.customer_id), c.role INTO v_cont, v_st, v_role
              FROM identities i JOIN contacts c ON c.id = i.contact_id JOIN customers cu ON cu.id = c.customer_id
             WHERE i.kind = v_kind AND i.value = v_val;
            IF v_cust IS NULL THEN v_cust := v_st; END IF;
        END IF;
        IF v_cust IS NULL AND v_kind = 'email' THEN
            SELECT id INTO v_cust FROM customers
             WHERE email_domain = split_part(v_val, '@', 2) AND merged_into IS NULL ORDER BY created_at, id LIMIT 1;
        END IF;
        IF v_cust IS NULL AND (v_val IS NOT NULL OR coalesce(d->>'customer_ref', '') <> '') THEN
            v_cust := coalesce(nullif(d->>'customer_ref', ''), 'L-' || substr(md5(v_kind || ':' || v_val), 1, 16));
            INSERT INTO customers (id, name, owner_rep_id, email_domain, is_lead, created_at)
            VALUES (v_cust, coalesce(d->>'party_name', ''), v_rep,
                    CASE WHEN v_kind = 'email' THEN split_part(v_val, '@', 2) END, true, v_at)
            ON CONFLICT (id) DO NOTHING;
            v_is_new := FOUND;
        END IF;
        IF v_cust IS NOT NULL AND v_cont IS NULL AND v_val IS NOT NULL THEN
            v_cont := 'K-' || substr(md5(v_kind || ':' || v_val), 1, 16);
            INSERT INTO contacts (id, customer_id, name, title, role, created_at)
            VALUES (v_cont, v_cust, coalesce(d->>'party_name', ''), v_ptitle, v_prole, v_at)
            ON CONFLICT (id) DO NOTHING;
            INSERT INTO identities (kind, value, contact_id) VALUES (v_kind, v_val, v_cont) ON CONFLICT DO NOTHING;
            SELECT role INTO v_role FROM contacts WHERE id = v_cont;
        END IF;
        IF v_cont IS NOT NULL THEN
            -- role and title are read by later items: written now, and only when they change
            IF v_prole IS NOT NULL OR v_ptitle <> '' THEN
                UPDATE contacts SET role = coalesce(role, v_prole),
                       title = CASE WHEN title = '' THEN v_ptitle ELSE title END
                 WHERE id = v_cont AND ((role IS NULL AND v_prole IS NOT NULL) OR (title = '' AND v_ptitle <> ''))
                RETURNING role INTO v_role;
                IF NOT FOUND THEN
                    SELECT role INTO v_role FROM contacts WHERE id = v_cont;
                END IF;
            END IF;
            w_cont := array_append(w_cont, v_cont);
            w_cont_at := array_append(w_cont_at, v_at);
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
            VALUES (v_deal, v_ev, coalesce(nullif(v_sc->>'from_stage', ''), ''), v_sc->>'to_stage', v_at) ON CONFLICT DO NOTHING;
        ELSIF v_deal IS NULL AND v_cust IS NOT NULL THEN
            SELECT id INTO v_deal FROM deals WHERE customer_id = v_cust AND is_open ORDER BY created_at DESC, id LIMIT 1;
        END IF;
        IF v_deal IS NOT NULL THEN
            SELECT stage INTO v_stage FROM deals WHERE id = v_deal;
            IF NOT FOUND THEN
                v_deal := NULL; -- a deal id the CRM never announced
            END IF;
        END IF;
        IF v_deal IS NOT NULL THEN
            w_deal := array_append(w_deal, v_deal);
            w_deal_at := array_append(w_deal_at, v_at);
            w_deal_rep := array_append(w_deal_rep, coalesce((d->>'rep_update')::boolean, false));
            w_deal_step := array_append(w_deal_step, nullif(d->>'next_step', ''));
            w_deal_due := array_append(w_deal_due, to_timestamp(nullif(d->>'next_step_due_ms', '')::bigint / 1000.0));
            w_deal_ord := array_append(w_deal_ord, n);
        END IF;

        v_row.event_id := v_ev;
        v_row.occurred_at := v_at;
        v_row.source := coalesce(d->>'source', '');
        v_row.external_id := coalesce(d->>'external_id', '');
        v_row.channel := d->>'channel';
        v_row.direction := d->>'direction';
        v_row.customer_id := v_cust;
        v_row.contact_id := v_cont;
        v_row.deal_id := v_deal;
        v_row.rep_id := v_rep;
        v_row.customer_side := coalesce((d->>'customer_side')::boolean, false);
        v_row.activity_kind := nullif(d->>'activity_kind', '');
        v_row.quality_passed := (d->>'quality_passed')::boolean;
        v_row.credibility := v_lvl;
        v_row.text := coalesce(d->>'text', '');
        v_row.extraction := coalesce(d->'extraction', '{}');
        w_ix := array_append(w_ix, v_row);

        IF v_cust IS NOT NULL THEN
            IF coalesce((d->>'touch')::boolean, true) THEN
                w_cust := array_append(w_cust, v_cust);
                w_cust_at := array_append(w_cust_at, v_at);
                w_cust_ev := array_append(w_cust_ev, v_ev);
                w_cust_dir := array_append(w_cust_dir, d->>'direction');
                w_cust_ord := array_append(w_cust_ord, n);
            END IF;

            -- facts with provenance
            FOR v_f IN SELECT value FROM jsonb_array_elements(coalesce(d->'facts', '[]')) LOOP
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
                ELSE
                    v_st := 'current';
                END IF;
                INSERT INTO facts (customer_id, deal_id, field, value, level, status, source_event_id, source_channel, quote,
                                   occurred_at)
                VALUES (v_cust, v_deal, v_f->>'field', v_f->'value', v_lvl, v_st, v_ev, d->>'channel', coalesce(v_f->>'quote', ''), v_at)
                ON CONFLICT (source_event_id, field, value) DO NOTHING;
            END LOOP;

            -- the card's core need and biggest concern, in the customer's words
            IF coalesce(d->>'core_need', '') <> '' OR coalesce(d->>'concern', '') <> '' THEN
                INSERT INTO customer_cards (customer_id, updated_at) VALUES (v_cust, v_at) ON CONFLICT DO NOTHING;
            END IF;
            IF coalesce(d->>'core_need', '') <> '' THEN
                UPDATE customer_cards SET core_need = d->>'core_need', core_need_source = v_ev, core_need_level = v_lvl,
                       updated_at = greatest(updated_at, v_at)
                 WHERE customer_id = v_cust AND core_need_level <= v_lvl;
            END IF;
            IF coalesce(d->>'concern', '') <> '' THEN
                UPDATE customer_cards SET concern = d->>'concern', concern_tag = coalesce(d->>'concern_tag', ''),
                       concern_severity = coalesce((d->>'concern_severity')::smallint, 1), concern_source = v_ev,
                       concern_at = v_at, updated_at = greatest(updated_at, v_at)
                 WHERE customer_id = v_cust
                   AND (concern_severity <= coalesce((d->>'concern_severity')::smallint, 1)
                        OR concern_at IS NULL OR concern_at < v_at - interval '30 days');
            END IF;
        END IF;

        a_cust[n] := v_cust;
        a_cont[n] := v_cont;
        a_deal[n] := v_deal;
        a_rep[n] := v_rep;
        a_new[n] := v_is_new;
        a_stage[n] := v_stage;
        a_role[n] := v_role;
        a_dup[n] := false;
    END LOOP;

    -- the deferred writes, one per row, in key order (a stable lock order)
    INSERT INTO interactions (event_id, occurred_at, source, external_id, channel, direction, customer_id, contact_id,
                              deal_id, rep_id, customer_side, activity_kind, quality_passed, credibility, text, extraction)
    SELECT event_id, occurred_at, source, external_id, channel, direction, customer_id, contact_id,
           deal_id, rep_id, customer_side, activity_kind, quality_passed, credibility, text, extraction
      FROM unnest(w_ix)
    ON CONFLICT DO NOTHING;

    UPDATE contacts c SET last_contact_at = greatest(c.last_contact_at, x.at)
      FROM (SELECT id, max(at) AS at FROM unnest(w_cont, w_cont_at) u(id, at) GROUP BY id ORDER BY id) x
     WHERE c.id = x.id;

    UPDATE deals dl
       SET last_activity_at = greatest(dl.last_activity_at, x.at),
           last_status_update_at = greatest(dl.last_status_update_at, x.status_at),
           next_step = coalesce(x.step, dl.next_step),
           next_step_due = coalesce(x.due, dl.next_step_due)
      FROM (SELECT id, max(at) AS at, max(at) FILTER (WHERE rep) AS status_at,
                   (array_agg(step ORDER BY ord DESC) FILTER (WHERE step IS NOT NULL))[1] AS step,
                   (array_agg(due ORDER BY ord DESC) FILTER (WHERE due IS NOT NULL))[1] AS due
              FROM unnest(w_deal, w_deal_at, w_deal_rep, w_deal_step, w_deal_due, w_deal_ord) u(id, at, rep, step, due, ord)
             GROUP BY id ORDER BY id) x
     WHERE dl.id = x.id;

    -- last interaction: the latest by time, the later item on a tie (as item by item)
    UPDATE customers cu
       SET last_interaction_id = CASE WHEN cu.last_interaction_at IS NULL OR x.at >= cu.last_interaction_at
                                      THEN x.ev ELSE cu.last_interaction_id END,
           last_interaction_at = greatest(cu.last_interaction_at, x.at),
           last_inbound_at = greatest(cu.last_inbound_at, x.in_at),
           last_outbound_at = greatest(cu.last_outbound_at, x.out_at)
      FROM (SELECT id, (array_agg(at ORDER BY at DESC, ord DESC))[1] AS at,
                   (array_agg(ev ORDER BY at DESC, ord DESC))[1] AS ev,
                   max(at) FILTER (WHERE dir = 'inbound') AS in_at,
                   max(at) FILTER (WHERE dir = 'outbound') AS out_at
              FROM unnest(w_cust, w_cust_at, w_cust_ev, w_cust_dir, w_cust_ord) u(id, at, ev, dir, ord)
             GROUP BY id ORDER BY id) x
     WHERE cu.id = x.id;

    -- the answers: what each item resolved, with its customer's static context
    SELECT jsonb_agg(jsonb_build_object(
               'customer_id', u.cust, 'contact_id', u.cont, 'deal_id', u.deal, 'new_customer', u.is_new,
               'deal_stage', u.stage,
               'owner_rep_id', c.owner_rep_id, 'industry', c.industry, 'class', c.class,
               'contact_role', u.role,
               'team_id', p.team_id, 'region_id', coalesce(p.region_id, t.region_id))
             || CASE WHEN u.dup THEN '{"duplicate": true}'::jsonb ELSE '{}'::jsonb END
             ORDER BY u.ord)
      INTO v_out
      FROM unnest(a_cust, a_cont, a_deal, a_rep, a_new, a_stage, a_role, a_dup)
           WITH ORDINALITY AS u(cust, cont, deal, rep, is_new, stage, role, dup, ord)
      LEFT JOIN customers c ON c.id = u.cust
      LEFT JOIN people p ON p.id = coalesce(u.rep, c.owner_rep_id)
      LEFT JOIN teams t ON t.id = p.team_id;
    RETURN coalesce(v_out, '[]');
END;
$$;

-- Applies a batch (a jsonb array of documents) in one round trip: fast, in
-- one subtransaction; if any item fails, item by item, each in its own
-- subtransaction, so an item that fails returns {"error": ...} (the
-- consumer dead-letters it) without undoing the others. Serialization
-- failures and deadlocks are re-raised so the whole batch is retried.
CREATE OR REPLACE FUNCTION enrich_apply_batch(docs jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    d   jsonb;
    r   jsonb;
    res jsonb[] := '{}';
BEGIN
    BEGIN
        RETURN enrich_apply_fast(docs);
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected THEN RAISE;
        WHEN OTHERS THEN NULL; -- some item is bad: find it below
    END;
    FOR d IN SELECT value FROM jsonb_array_elements(docs) LOOP
        BEGIN
            r := enrich_apply(d);
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected THEN RAISE;
            WHEN OTHERS THEN r := jsonb_build_object('error', SQLSTATE || ': ' || SQLERRM);
        END;
        res := array_append(res, r);
    END LOOP;
    RETURN to_jsonb(res);
END;
$$;
