/** Issues and checks the per-room secret a room presents to the rooms API. */
export interface RoomTokens {
  tokenFor(schedulerName: string, roomId: string): string;
  verify(schedulerName: string, roomId: string, token: string): boolean;
}
