-- 0017 enrich_lock: several sp-enrich instances without deadlocks.
-- A customer's interactions arrive on several partitions (a WeCom contact, an
-- e-mail address and the CRM's events are keyed apart), so two instances'
-- batches share customers. Each batch wrote that customer's rows (deals,
-- contacts, cards, facts, the customer) in its own item order: two instances
-- deadlocked on them (bench_enrich with two instances: 51 deadlocks and 4,262
-- interactions/s for 100,000, against 9,700/s for one instance).
--
-- sp-enrich now calls enrich_lock first in each batch transaction, with every
-- item's customer reference, identity and deal: it resolves them to customers
-- as enrich_apply_fast will (a merged customer to the one it was merged into;
-- an unknown e-mail address to the customer of its domain) and locks those
-- customers in id order. Every later write of the batch to a customer's rows
-- happens under that customer's lock, and the locks are taken in one order,
-- so two batches that share customers wait for each other instead of
-- deadlocking. Not covered: two batches creating the same new lead at once
-- (the identity is unknown to both); a deadlock there is retried as before.
--
-- keys: [{"r": customer ref, "k": identity kind, "v": identity value,
--         "d": deal id}, ...] (any may be missing). Returns how many
-- customers it locked.
CREATE FUNCTION enrich_lock(keys jsonb) RETURNS integer LANGUAGE sql AS $$
    WITH k AS (SELECT DISTINCT * FROM jsonb_to_recordset(keys) AS k(r text, k text, v text, d text)),
         c AS (SELECT coalesce(cu.merged_into, cu.id) AS id FROM k JOIN customers cu ON cu.id = k.r
               UNION
               SELECT coalesce(cu.merged_into, ct.customer_id) FROM k
                 JOIN identities i ON i.kind = k.k AND i.value = k.v
                 JOIN contacts ct ON ct.id = i.contact_id JOIN customers cu ON cu.id = ct.customer_id
               UNION
               SELECT (SELECT cu.id FROM customers cu
                        WHERE cu.email_domain = split_part(k.v, '@', 2) AND cu.merged_into IS NULL
                        ORDER BY cu.created_at, cu.id LIMIT 1)
                 FROM k WHERE k.k = 'email'
                  AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.kind = k.k AND i.value = k.v)
               UNION
               SELECT coalesce(cu.merged_into, d.customer_id) FROM k
                 JOIN deals d ON d.id = k.d JOIN customers cu ON cu.id = d.customer_id)
    SELECT count(*)::int FROM (SELECT cu.id FROM customers cu WHERE cu.id IN (SELECT id FROM c)
                                ORDER BY cu.id FOR NO KEY UPDATE) l;
$$;
