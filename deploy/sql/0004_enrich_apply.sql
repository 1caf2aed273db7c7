-- 0004 enrich_apply: applies one enriched interaction in a single round trip.
-- Input: a jsonb document built by services/enrich/enrich_svc.c (see there
-- for every key). Output: jsonb with the resolved ids and the context the
-- EnrichedInteraction carries, or {"duplicate":true} when the event was
-- already applied (idempotency by event id through processed_events).
-- Facts follow the credibility rule: a fact of a lower level never
-- overwrites a current one of a higher level; it is kept as 'conflict'.
CREATE OR REPLACE FUNCTION enrich_apply(d jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    ev       text        := d->>'event_id';
    at       timestamptz := to_timestamp((d->>'occurred_at_ms')::bigint / 1000.0);
    kind     text        := nullif(d->>'id_kind', '');
    val      text        := nullif(d->>'id_value', '');
    rep      text        := nullif(d->>'rep_id', '');
    lvl      smallint    := coalesce((d->>'level')::smallint, 1);
    cust     text;
    cont     text;
    deal     text        := nullif(d->>'deal_id', '');
    is_new   boolean     := false;
    sc       jsonb       := d->'stage_change';
    f        jsonb;
    cur      record;
    st       text;
    out      jsonb;
BEGIN
    INSERT INTO processed_events (consumer, event_id) VALUES ('sp-enrich', ev) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('duplicate', true);
    END IF;

    -- identity resolution: customer ref, then identity, then e-mail domain, else a new lead
    IF coalesce(d->>'customer_ref', '') <> '' THEN
        SELECT coalesce(merged_into, id) INTO cust FROM customers WHERE id = d->>'customer_ref';
    END IF;
    IF kind IS NOT NULL AND val IS NOT NULL THEN
        SELECT c.id, coalesce(cu.merged_into, c.customer_id) INTO cont, st
          FROM identities i JOIN contacts c ON c.id = i.contact_id JOIN customers cu ON cu.id = c.customer_id
         WHERE i.kind = kind AND i.value = val;
        IF cust IS NULL THEN cust := st; END IF;
    END IF;
    IF cust IS NULL AND kind = 'email' THEN
        SELECT id INTO cust FROM customers
         WHERE email_domain = split_part(val, '@', 2) AND merged_into IS NULL ORDER BY created_at, id LIMIT 1;
    END IF;
    IF cust IS NULL AND (val IS NOT NULL OR coalesce(d->>'customer_ref', '') <> '') THEN
        cust := coalesce(nullif(d->>'customer_ref', ''), 'L-' || substr(md5(kind || ':' || val), 1, 16));
        INSERT INTO customers (id, name, owner_rep_id, email_domain, is_lead, created_at)
        VALUES (cust, coalesce(d->>'party_name', ''), rep,
                CASE WHEN kind = 'email' THEN split_part(val, '@', 2) END, true, at)
        ON CONFLICT (id) DO NOTHING;
        is_new := FOUND;
    END IF;
    IF cust IS NOT NULL AND cont IS NULL AND val IS NOT NULL THEN
        cont := 'K-' || substr(md5(kind || ':' || val), 1, 16);
        INSERT INTO contacts (id, customer_id, name, title, role, created_at)
        VALUES (cont, cust, coalesce(d->>'party_name', ''), coalesce(d->>'party_title', ''),
                nullif(d->>'party_role', ''), at)
        ON CONFLICT (id) DO NOTHING;
        INSERT INTO identities (kind, value, contact_id) VALUES (kind, val, cont) ON CONFLICT DO NOTHING;
    END IF;
    IF cont IS NOT NULL THEN
        UPDATE contacts SET last_contact_at = greatest(last_contact_at, at),
               role = coalesce(role, nullif(d->>'party_role', '')),
               title = CASE WHEN title = '' THEN coalesce(d->>'party_title', '') ELSE title END
         WHERE id = cont;
    END IF;

    -- the deal: a CRM stage change creates or moves it; otherwise the customer's open deal
    IF sc IS NOT NULL AND cust IS NOT NULL THEN
        deal := sc->>'deal_id';
        INSERT INTO deals (id, customer_id, name, stage, stage_since, amount, owner_rep_id, product_ids, is_open,
                           created_at, last_status_update_at)
        VALUES (deal, cust, coalesce(sc->>'deal_name', ''), sc->>'to_stage', at, coalesce((sc->>'amount')::bigint, 0),
                rep, ARRAY(SELECT jsonb_array_elements_text(coalesce(sc->'product_ids', '[]'))),
                sc->>'to_stage' NOT IN ('won', 'lost'), at, at)
        ON CONFLICT (id) DO UPDATE
           SET stage = EXCLUDED.stage,
               stage_since = CASE WHEN deals.stage <> EXCLUDED.stage THEN EXCLUDED.stage_since ELSE deals.stage_since END,
               amount = CASE WHEN EXCLUDED.amount > 0 THEN EXCLUDED.amount ELSE deals.amount END,
               is_open = EXCLUDED.is_open,
               last_status_update_at = greatest(deals.last_status_update_at, EXCLUDED.last_status_update_at)
         WHERE deals.stage_since <= EXCLUDED.stage_since; -- a stale, out-of-order change does not move it back
        INSERT INTO deal_stage_history (deal_id, event_id, from_stage, to_stage, at)
        VALUES (deal, ev, coalesce(nullif(sc->>'from_stage', ''), ''), sc->>'to_stage', at) ON CONFLICT DO NOTHING;
    ELSIF deal IS NULL AND cust IS NOT NULL THEN
        SELECT id INTO deal FROM deals WHERE customer_id = cust AND is_open ORDER BY created_at DESC, id LIMIT 1;
    END IF;
    IF deal IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deals WHERE id = deal) THEN
        deal := NULL; -- a deal id the CRM never announced
    END IF;
    IF deal IS NOT NULL THEN
        UPDATE deals
           SET last_activity_at = greatest(last_activity_at, at),
               last_status_update_at = CASE WHEN (d->>'rep_update')::boolean
                                            THEN greatest(last_status_update_at, at) ELSE last_status_update_at END,
               next_step = coalesce(nullif(d->>'next_step', ''), next_step),
               next_step_due = coalesce(to_timestamp(nullif(d->>'next_step_due_ms', '')::bigint / 1000.0), next_step_due)
         WHERE id = deal;
    END IF;

    INSERT INTO interactions (event_id, occurred_at, source, external_id, channel, direction, customer_id, contact_id,
                              deal_id, rep_id, customer_side, activity_kind, quality_passed, credibility, text, extraction)
    VALUES (ev, at, coalesce(d->>'source', ''), coalesce(d->>'external_id', ''), d->>'channel', d->>'direction', cust,
            cont, deal, rep, coalesce((d->>'customer_side')::boolean, false), nullif(d->>'activity_kind', ''),
            (d->>'quality_passed')::boolean, lvl, coalesce(d->>'text', ''), coalesce(d->'extraction', '{}'))
    ON CONFLICT DO NOTHING;

    IF cust IS NOT NULL THEN
        IF coalesce((d->>'touch')::boolean, true) THEN
            UPDATE customers
               SET last_interaction_id = CASE WHEN last_interaction_at IS NULL OR at >= last_interaction_at
                                              THEN ev ELSE last_interaction_id END,
                   last_interaction_at = greatest(last_interaction_at, at),
                   last_inbound_at = CASE WHEN d->>'direction' = 'inbound' THEN greatest(last_inbound_at, at)
                                          ELSE last_inbound_at END,
                   last_outbound_at = CASE WHEN d->>'direction' = 'outbound' THEN greatest(last_outbound_at, at)
                                           ELSE last_outbound_at END
             WHERE id = cust;
        END IF;

        -- facts with provenance
        FOR f IN SELECT * FROM jsonb_array_elements(coalesce(d->'facts', '[]')) LOOP
            IF (f->>'single')::boolean THEN
                SELECT id, level, value, occurred_at INTO cur FROM facts
                 WHERE customer_id = cust AND field = f->>'field' AND status = 'current'
                 ORDER BY level DESC, occurred_at DESC LIMIT 1;
                IF cur.id IS NULL OR lvl > cur.level OR (lvl = cur.level AND at >= cur.occurred_at) THEN
                    IF cur.id IS NOT NULL THEN
                        UPDATE facts SET status = 'superseded' WHERE id = cur.id;
                    END IF;
                    st := 'current';
                ELSIF lvl = cur.level OR cur.value = f->'value' THEN
                    st := 'superseded'; -- older statement, or agrees with a higher level
                ELSE
                    st := 'conflict';   -- a lower level disagreeing: kept and visible
                END IF;
            ELSE
                st := 'current';
            END IF;
            INSERT INTO facts (customer_id, deal_id, field, value, level, status, source_event_id, source_channel, quote,
                               occurred_at)
            VALUES (cust, deal, f->>'field', f->'value', lvl, st, ev, d->>'channel', coalesce(f->>'quote', ''), at)
            ON CONFLICT (source_event_id, field, value) DO NOTHING;
        END LOOP;

        -- the card's core need and biggest concern, in the customer's words
        IF coalesce(d->>'core_need', '') <> '' OR coalesce(d->>'concern', '') <> '' THEN
            INSERT INTO customer_cards (customer_id, updated_at) VALUES (cust, at) ON CONFLICT DO NOTHING;
        END IF;
        IF coalesce(d->>'core_need', '') <> '' THEN
            UPDATE customer_cards SET core_need = d->>'core_need', core_need_source = ev, core_need_level = lvl,
                   updated_at = greatest(updated_at, at)
             WHERE customer_id = cust AND core_need_level <= lvl;
        END IF;
        IF coalesce(d->>'concern', '') <> '' THEN
            UPDATE customer_cards SET concern = d->>'concern', concern_tag = coalesce(d->>'concern_tag', ''),
                   concern_severity = coalesce((d->>'concern_severity')::smallint, 1), concern_source = ev,
                   concern_at = at, updated_at = greatest(updated_at, at)
             WHERE customer_id = cust
               AND (concern_severity <= coalesce((d->>'concern_severity')::smallint, 1)
                    OR concern_at IS NULL OR concern_at < at - interval '30 days');
        END IF;
    END IF;

    SELECT jsonb_build_object(
               'customer_id', cust, 'contact_id', cont, 'deal_id', deal, 'new_customer', is_new,
               'deal_stage', (SELECT stage FROM deals WHERE id = deal),
               'owner_rep_id', (SELECT owner_rep_id FROM customers WHERE id = cust),
               'industry', (SELECT industry FROM customers WHERE id = cust),
               'class', (SELECT class FROM customers WHERE id = cust),
               'contact_role', (SELECT role FROM contacts WHERE id = cont),
               'team_id', p.team_id, 'region_id', coalesce(p.region_id, t.region_id))
      INTO out
      FROM (SELECT 1) one
      LEFT JOIN people p ON p.id = coalesce(rep, (SELECT owner_rep_id FROM customers WHERE id = cust))
      LEFT JOIN teams t ON t.id = p.team_id;
    RETURN out;
END;
$$;
