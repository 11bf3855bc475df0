"""The outbox, its paced sender and the handling of Telegram's answers."""
