/** `torch.data` in Node: everything of portable.ts, and loadSpamAssassin, which reads files. */
export * from "./portable";
export { loadSpamAssassin } from "./spam-assassin";
