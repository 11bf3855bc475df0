"""Questions the bot asks with ForceReply, and the filter that knows a reply to one."""

from __future__ import annotations

from telegram import ForceReply, Message
from telegram.ext import filters


class RepliesTo(filters.MessageFilter):
    """A private message that answers the bot's question ``prompt`` (its plain text)."""

    def __init__(self, prompt: str) -> None:
        super().__init__(name=f"RepliesTo({prompt[:20]!r})")
        self._prompt = prompt

    def filter(self, message: Message) -> bool:
        asked = message.reply_to_message
        return (
            asked is not None
            and asked.from_user is not None
            and asked.from_user.is_bot
            and asked.text == self._prompt
        )


def ask_for(placeholder: str) -> ForceReply:
    """The markup that opens the person's reply to a question, with a hint in the field."""
    return ForceReply(selective=True, input_field_placeholder=placeholder)


# A reply to a question is plain text in a private chat, never a command.
ANSWERS = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & filters.REPLY
