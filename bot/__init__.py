"""Herald: a Telegram bot that pushes news-feed entries to the chats whose topics they match."""
