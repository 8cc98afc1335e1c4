-- Up Migration
-- A device-bound key is bound to a device, i.e. a kind and an id: a key made for vehicle ev-42
-- must not post meter readings for a meter that happens to be called ev-42 (SECURITY.md).
-- Keys bound before this migration get the kind their id is known under (the live tables:
-- every device that ever sent a reading has a row there). An id known as both or as neither
-- stays NULL: such a key ingests nothing (403 device_forbidden, saying to create a new key
-- with `deviceKind`), rather than the service guessing which device its holder is.
ALTER TABLE api_keys
  ADD COLUMN device_kind text CHECK (device_kind IN ('meter', 'vehicle')),
  ADD CONSTRAINT api_keys_kind_only_with_device CHECK (device_kind IS NULL OR device_id IS NOT NULL);

UPDATE api_keys k SET device_kind = CASE
    WHEN EXISTS (SELECT 1 FROM meter_live m WHERE m.meter_id = k.device_id)
      THEN CASE WHEN EXISTS (SELECT 1 FROM vehicle_live v WHERE v.vehicle_id = k.device_id) THEN NULL ELSE 'meter' END
    WHEN EXISTS (SELECT 1 FROM vehicle_live v WHERE v.vehicle_id = k.device_id) THEN 'vehicle'
  END
WHERE k.device_id IS NOT NULL;

-- Down Migration
ALTER TABLE api_keys DROP CONSTRAINT api_keys_kind_only_with_device, DROP COLUMN device_kind;
