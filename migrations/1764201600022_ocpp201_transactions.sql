-- Up Migration
-- OCPP 2.0.1 transactions (TransactionEvent, src/ocpp/ocpp201-transactions.ts) in the same table
-- as 1.6's. A 2.0.1 station names its transactions itself (a string of up to 36 characters):
-- a resent event finds its transaction by it. A 2.0.1 transaction often starts before an id
-- token is presented (the cable plugged in) and its registers are sampled values, not whole Wh:
-- the token and the 1.6 meterStart may be absent.
ALTER TABLE charge_point_transactions
  ADD COLUMN ocpp_transaction_id text,
  ADD CONSTRAINT charge_point_transactions_ocpp_id UNIQUE (charge_point_id, ocpp_transaction_id),
  ALTER COLUMN id_tag DROP NOT NULL,
  ALTER COLUMN id_tag_status DROP NOT NULL,
  ALTER COLUMN meter_start_wh DROP NOT NULL;

-- Down Migration
DELETE FROM charge_point_transactions WHERE ocpp_transaction_id IS NOT NULL;
ALTER TABLE charge_point_transactions
  ALTER COLUMN meter_start_wh SET NOT NULL,
  ALTER COLUMN id_tag_status SET NOT NULL,
  ALTER COLUMN id_tag SET NOT NULL,
  DROP CONSTRAINT charge_point_transactions_ocpp_id,
  DROP COLUMN ocpp_transaction_id;
