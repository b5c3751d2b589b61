import { MemoryNotify } from "../fakes/memorySinks";
import { SlackNotifier } from "../../functions/src/sinks/slack";
import { notifyContract } from "../contract/notify.contract";
import { startSlackServer } from "../vendors/slackServer";

notifyContract("Slack adapter → local Slack", async () => {
  const slack = await startSlackServer({ perSecond: Infinity });
  return {
    notify: new SlackNotifier({ webhookUrl: slack.url, timeoutMs: 2000 }),
    messages: () => slack.messages().map((m) => m.text),
    close: () => slack.close(),
  };
});

notifyContract("in-memory fake", async () => {
  const notify = new MemoryNotify();
  return { notify, messages: () => notify.posts.map((p) => p.text), close: async () => undefined };
});
