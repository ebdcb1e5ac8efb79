-- name: suggest_rejected
-- description: Suggestions labelled rejected (`tracelab label suggestion:ID --label rejected`):
--   `tracelab suggest` leaves them out.
-- returns target_key VARCHAR: the suggestion id
SELECT DISTINCT target_key
FROM feedback
WHERE target_type = 'suggestion' AND lower(label) = 'rejected'
