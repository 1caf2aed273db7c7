-- 0004 enrich_apply: applies one enriched interaction in a single round trip.
-- Input: a jsonb document built by services/enrich/enrich_svc.c (see there
-- for every key). Output: jsonb with the resolved ids and the context the
-- EnrichedInteraction carries, or {"duplicate":true} when the event was
-- already applied (idempotency by event id through processed_events).
-- Facts follow the credibility rule: a fact of a lower level never
-- overwrites a current one of a higher level; it is kept as 'conflict'.
-- The context an EnrichedInteraction carries for a resolved interaction.
CREATE OR REPLACE FUNCTION enrich_context(p_cust text, p_cont text, p_deal text, p_rep text, p_new boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
               'customer_id', p_cust, 'contact_id', p_cont, 'deal_id', p_deal, 'new_customer', p_new,
               'deal_stage', (SELECT stage FROM deals WHERE id = p_deal),
               'owner_rep_id', c.owner_rep_id, 'industry', c.industry, 'class', c.class,
               'contact_role', (SELECT role FROM contacts WHERE id = p_cont),
               'team_id', p.team_id, 'region_id', coalesce(p.region_id, t.region_id))
      FROM (SELECT 1) one
      LEFT JOIN customers c ON c.id = p_cust
      LEFT JOIN people p ON p.id = coalesce(p_rep, c.owner_rep_id)
      LEFT JOIN teams t ON t.id = p.team_id
$$;

CREATE OR REPLACE FUNCTION enrich_apply(d jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_ev       text        := d->>'event_id';
    v_at       timestamptz := to_timestamp((d->>'occurred_at_ms')::bigint / 1000.0);
    v_kind     text        := nullif(d->>'id_kind', '');
    v_val      text        := nullif(d->>'id_value', '');
    v_rep      text        := nullif(d->>'rep_id', '');
    v_lvl      smallint    := coalesce((d->>'level')::smallint, 1);
    v_cust     text;
    v_cont     text;
    v_deal     text        := nullif(d->>'deal_id', '');
    v_is_new   boolean     := false;
    v_sc       jsonb       := d->'stage_change';
    v_f        jsonb;
    v_cur      record;
    v_st       text;
    v_out      jsonb;
BEGIN
    INSERT INTO processed_events (consumer, event_id) VALUES ('sp-enrich', v_ev) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        -- applied before: answer the same context again so the caller can
        -- re-publish (its output may have been lost in a crash after commit)
        SELECT customer_id, contact_id, deal_id INTO v_cust, v_cont, v_deal
          FROM interactions WHERE event_id = v_ev LIMIT 1;
        RETURN enrich_context(v_cust, v_cont, v_deal, v_rep, false) || jsonb_build_object('duplicate', true);
    END IF;

    -- identity resolution: customer ref, then identity, then e-mail domain, else a new lead
    IF coalesce(d->>'customer_ref', '') <> '' THEN
        SELECT coalesce(merged_into, id) INTO v_cust FROM customers WHERE id = d->>'customer_ref';
    END IF;
    IF v_kind IS NOT NULL AND v_val IS NOT NULL THEN
        SELECT c.id, coalesce(cu.merged_into, c.customer_id) INTO v_cont, v_st
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
        VALUES (v_cont, v_cust, coalesce(d->>'party_name', ''), coalesce(d->>'party_title', ''),
                nullif(d->>'party_role', ''), v_at)
        ON CONFLICT (id) DO NOTHING;
        INSERT INTO identities (kind, value, contact_id) VALUES (v_kind, v_val, v_cont) ON CONFLICT DO NOTHING;
    END IF;
    IF v_cont IS NOT NULL THEN
        UPDATE contacts SET last_contact_at = greatest(last_contact_at, v_at),
               role = coalesce(role, nullif(d->>'party_role', '')),
               title = CASE WHEN title = '' THEN coalesce(d->>'party_title', '') ELSE title END
         WHERE id = v_cont;
    END IF;

    -- the v_deal: a CRM stage change creates or moves it; otherwise the customer's open v_deal
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
         WHERE deals.stage_since <= EXCLUDED.stage_since; -- a stale, v_out-of-order change does not move it back
        INSERT INTO deal_stage_history (deal_id, event_id, from_stage, to_stage, at)
        VALUES (v_deal, v_ev, coalesce(nullif(v_sc->>'from_stage', ''), ''), v_sc->>'to_stage', v_at) ON CONFLICT DO NOTHING;
    ELSIF v_deal IS NULL AND v_cust IS NOT NULL THEN
        SELECT id INTO v_deal FROM deals WHERE customer_id = v_cust AND is_open ORDER BY created_at DESC, id LIMIT 1;
    END IF;
    IF v_deal IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deals WHERE id = v_deal) THEN
        v_deal := NULL; -- a v_deal id the CRM never announced
    END IF;
    IF v_deal IS NOT NULL THEN
        UPDATE deals
           SET last_activity_at = greatest(last_activity_at, v_at),
               last_status_update_at = CASE WHEN (d->>'rep_update')::boolean
                                            THEN greatest(last_status_update_at, v_at) ELSE last_status_update_at END,
               next_step = coalesce(nullif(d->>'next_step', ''), next_step),
               next_step_due = coalesce(to_timestamp(nullif(d->>'next_step_due_ms', '')::bigint / 1000.0), next_step_due)
         WHERE id = v_deal;
    END IF;

    INSERT INTO interactions (event_id, occurred_at, source, external_id, channel, direction, customer_id, contact_id,
                              deal_id, rep_id, customer_side, activity_kind, quality_passed, credibility, text, extraction)
    VALUES (v_ev, v_at, coalesce(d->>'source', ''), coalesce(d->>'external_id', ''), d->>'channel', d->>'direction', v_cust,
            v_cont, v_deal, v_rep, coalesce((d->>'customer_side')::boolean, false), nullif(d->>'activity_kind', ''),
            (d->>'quality_passed')::boolean, v_lvl, coalesce(d->>'text', ''), coalesce(d->'extraction', '{}'))
    ON CONFLICT DO NOTHING;

    IF v_cust IS NOT NULL THEN
        IF coalesce((d->>'touch')::boolean, true) THEN
            UPDATE customers
               SET last_interaction_id = CASE WHEN last_interaction_at IS NULL OR v_at >= last_interaction_at
                                              THEN v_ev ELSE last_interaction_id END,
                   last_interaction_at = greatest(last_interaction_at, v_at),
                   last_inbound_at = CASE WHEN d->>'direction' = 'inbound' THEN greatest(last_inbound_at, v_at)
                                          ELSE last_inbound_at END,
                   last_outbound_at = CASE WHEN d->>'direction' = 'outbound' THEN greatest(last_outbound_at, v_at)
                                           ELSE last_outbound_at END
             WHERE id = v_cust;
        END IF;

        -- facts with provenance
        FOR v_f IN SELECT * FROM jsonb_array_elements(coalesce(d->'facts', '[]')) LOOP
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

    v_out := enrich_context(v_cust, v_cont, v_deal, v_rep, v_is_new);
    RETURN v_out;
END;
$$;

-- Applies a batch (a jsonb array of documents) in one round trip. Each item
-- runs in its own subtransaction: an item that fails returns {"error": ...}
-- (the consumer dead-letters it) without undoing the others; serialization
-- failures and deadlocks are re-raised so the whole batch is retried.
CREATE OR REPLACE FUNCTION enrich_apply_batch(docs jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    d   jsonb;
    r   jsonb;
    res jsonb[] := '{}';
BEGIN
    FOR d IN SELECT * FROM jsonb_array_elements(docs) LOOP
        BEGIN
            r := enrich_apply(d);
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected THEN RAISE;
            WHEN OTHERS THEN r := jsonb_build_object('error', SQLSTATE || ': ' || SQLERRM);
        END;
        res := res || r;
    END LOOP;
    RETURN to_jsonb(res);
END;
$$;
