/** A room command that reports itself ready every second, with the token Maestro gives each room. */
export const pingingRoomCommand = [
  "node",
  "-e",
  [
    "const e = process.env;",
    "const url = e.MAESTRO_ROOMS_API_URL + '/scheduler/' + e.MAESTRO_SCHEDULER_NAME + '/rooms/' + e.MAESTRO_ROOM_ID + '/ping';",
    "const headers = { 'content-type': 'application/json', authorization: 'Bearer ' + e.MAESTRO_ROOM_TOKEN };",
    "const ping = () => fetch(url, { method: 'PUT', headers, body: JSON.stringify({ status: 'ready', timestamp: 0 }) }).catch(() => {});",
    "ping(); setInterval(ping, 1000);",
  ].join(" "),
];
