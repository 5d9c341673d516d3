"""Two bots written with the `tamtam-bot` library, run by the tests in its own venv.

    python bots.py echo SERVER TOKEN      # long polling: answer one message, exit
    python bots.py webhook SERVER TOKEN   # subscribe a webhook, answer one message, exit

Only the library's public `BotHandler` and its `url` attribute are used.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from tamtam_bot import BotHandler


def make_bot(server, token):
    bot = BotHandler(token)
    bot.url = server.rstrip("/") + "/botapi/"
    return bot


def echo(server, token):
    bot = make_bot(server, token)
    print("ready", flush=True)
    while True:
        update = bot.get_updates(limit=1, timeout=5)
        if update and bot.get_update_type(update) == "message_created":
            bot.send_message("echo: " + bot.get_text(update), bot.get_chat_id(update))
            return


def webhook(server, token):
    bot = make_bot(server, token)
    done = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            update = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if bot.get_update_type(update) == "message_created":
                bot.send_message("hook: " + bot.get_text(update), bot.get_chat_id(update))
                done.append(update)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

    httpd = HTTPServer(("127.0.0.1", 0), Hook)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    if bot.subscribe(url, ["message_created"], "0.5.6") is None:
        sys.exit("subscribe failed")
    print("ready", flush=True)
    while not done:
        httpd.handle_request()


if __name__ == "__main__":
    {"echo": echo, "webhook": webhook}[sys.argv[1]](*sys.argv[2:4])
