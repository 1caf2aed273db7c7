-- 0010 customer_merge(from, into): a lead that turns out to be a known
-- customer (or two records of one school) become one. Every interaction,
-- fact, contact, identity and deal moves to `into`; the card keeps the
-- stronger of the two; `from` stays as a tombstone (merged_into) so old
-- references resolve. Idempotent: merging again changes nothing.
CREATE OR REPLACE FUNCTION customer_merge(p_from text, p_into text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_target text;
    n_ix bigint; n_facts bigint; n_contacts bigint; n_deals bigint;
BEGIN
    IF p_from = p_into THEN
        RAISE EXCEPTION 'customer_merge: cannot merge % into itself', p_from USING ERRCODE = '22023';
    END IF;
    SELECT coalesce(merged_into, id) INTO v_target FROM customers WHERE id = p_into;
    IF v_target IS NULL THEN
        RAISE EXCEPTION 'customer_merge: unknown customer %', p_into USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM customers WHERE id = p_from) THEN
        RAISE EXCEPTION 'customer_merge: unknown customer %', p_from USING ERRCODE = '22023';
    END IF;
    IF v_target = p_from THEN
        RAISE EXCEPTION 'customer_merge: % is already merged into %', p_into, p_from USING ERRCODE = '22023';
    END IF;
    UPDATE interactions SET customer_id = v_target WHERE customer_id = p_from;
    GET DIAGNOSTICS n_ix = ROW_COUNT;
    UPDATE facts SET customer_id = v_target WHERE customer_id = p_from;
    GET DIAGNOSTICS n_facts = ROW_COUNT;
    UPDATE contacts SET customer_id = v_target WHERE customer_id = p_from;
    GET DIAGNOSTICS n_contacts = ROW_COUNT;
    UPDATE deals SET customer_id = v_target WHERE customer_id = p_from;
    GET DIAGNOSTICS n_deals = ROW_COUNT;
    -- the card: keep the stronger core need and concern of the two
    INSERT INTO customer_cards (customer_id, updated_at)
    SELECT v_target, now() WHERE EXISTS (SELECT 1 FROM customer_cards WHERE customer_id = p_from)
    ON CONFLICT DO NOTHING;
    UPDATE customer_cards t SET core_need = f.core_need, core_need_source = f.core_need_source,
           core_need_level = f.core_need_level
      FROM customer_cards f WHERE f.customer_id = p_from AND t.customer_id = v_target
       AND f.core_need <> '' AND f.core_need_level >= t.core_need_level AND t.core_need = '';
    UPDATE customer_cards t SET concern = f.concern, concern_tag = f.concern_tag,
           concern_severity = f.concern_severity, concern_source = f.concern_source, concern_at = f.concern_at
      FROM customer_cards f WHERE f.customer_id = p_from AND t.customer_id = v_target
       AND f.concern <> '' AND (f.concern_severity > t.concern_severity OR t.concern = '');
    DELETE FROM customer_cards WHERE customer_id = p_from;
    UPDATE customers t
       SET last_interaction_at = greatest(t.last_interaction_at, f.last_interaction_at),
           last_inbound_at = greatest(t.last_inbound_at, f.last_inbound_at),
           last_outbound_at = greatest(t.last_outbound_at, f.last_outbound_at),
           is_lead = t.is_lead AND f.is_lead
      FROM customers f WHERE f.id = p_from AND t.id = v_target;
    UPDATE customers SET merged_into = v_target WHERE id = p_from;
    UPDATE customers SET merged_into = v_target WHERE merged_into = p_from; -- earlier merges follow
    INSERT INTO customer_merges (from_id, into_id) VALUES (p_from, v_target)
    ON CONFLICT (from_id) DO UPDATE SET into_id = EXCLUDED.into_id;
    RETURN jsonb_build_object('into', v_target, 'interactions', n_ix, 'facts', n_facts, 'contacts', n_contacts,
                              'deals', n_deals);
END;
$$;
