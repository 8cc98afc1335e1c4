import type { ColumnType, Generated } from 'kysely';

/**
 * Which vehicle drew from which meter, when: [valid_from, valid_to), the current one ending
 * at 'infinity' (END_OF_TIME), migrated ones starting at '-infinity' (START_OF_TIME). The
 * database keeps one meter per vehicle and one vehicle per meter at any instant.
 */
export interface VehicleMeterAssignmentTable {
  id: Generated<number>;
  vehicle_id: string;
  meter_id: string;
  valid_from: Date;
  valid_to: ColumnType<Date, Date | undefined, Date>;
  created_at: Generated<Date>;
}

/** Every change made to an assignment, by whom and when. */
export interface VehicleMeterAssignmentAuditTable {
  id: Generated<number>;
  at: Generated<Date>;
  actor: string;
  action: 'assign' | 'close' | 'correct' | 'delete' | 'migrate';
  assignment_id: number;
  vehicle_id: string;
  meter_id: string;
  old_from: Date | null;
  old_to: Date | null;
  new_from: Date | null;
  new_to: Date | null;
}

/** The view `vehicle_meter_mapping`: the assignments in force now (read-only). */
export interface VehicleMeterMappingView {
  vehicle_id: string;
  meter_id: string;
  updated_at: Date;
}
