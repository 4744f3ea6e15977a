/** The SpamAssassin sample that vite.config.ts builds into the worker: class names, and [class, text] pairs. */
declare module "virtual:spam-assassin-sample" {
  const sample: { labels: string[]; examples: Array<[number, string]> };
  export default sample;
}
