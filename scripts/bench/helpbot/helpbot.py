"""The bench's maubot plugin: answers `!help` with a short notice, as a command bot would."""

from maubot import MessageEvent, Plugin
from maubot.handlers import command


class HelpBot(Plugin):
    @command.new("help")
    async def help(self, evt: MessageEvent) -> None:
        await evt.reply("Commands: !help — this text.", markdown=False)
