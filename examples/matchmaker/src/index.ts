export {
  type EventReceiver,
  type EventReceiverOptions,
  type ForwardedEvent,
  type ForwardedEventKind,
  startEventReceiver,
} from "./event-receiver.js";
export { type PlayRoundOptions, playRound, type RoundResult } from "./game-client.js";
export { allocateAndPlay, type MatchOptions, type MatchResult } from "./match.js";
