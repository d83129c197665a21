"""Adding articles by URL: fetch a page safely, extract the article, write a seed file.

- `fetch.py`: the guarded HTTP fetch (schemes, address checks on every hop, limits, decoding).
- `article.py`: the article and its metadata out of the HTML (trafilatura).
- `seedfile.py`: the Markdown seed file (front matter, slug name, atomic write, same URL updates).
- `add.py`: the three in a row, as `briefbot add URL` runs them.
- `feeds.py`: `seeds/feeds.yaml` and a feed's items (the server's poller, which adds them with
  `add.py`, is `bot/feed_poller.py`).
"""
