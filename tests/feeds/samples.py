"""Small feeds in every format Herald reads, as publishers write them."""

RSS_091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91">
  <channel>
    <title>World Wire</title>
    <link>https://wire.example/</link>
    <description>News from everywhere</description>
    <language>en-us</language>
    <item>
      <title>Ceasefire talks resume in Geneva</title>
      <link>https://wire.example/2024/ceasefire</link>
      <description>Delegations met for a third day.</description>
    </item>
    <item>
      <title>Caf\xe9 owners protest new tariffs</title>
      <link>https://wire.example/2024/tariffs</link>
      <description>Prices rose 12% in a month.</description>
    </item>
  </channel>
</rss>
"""

RSS_10 = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF
  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="https://wire.example/rss10">
    <title>World Wire (RDF)</title>
    <link>https://wire.example/</link>
    <description>News from everywhere</description>
    <items>
      <rdf:Seq>
        <rdf:li resource="https://wire.example/2024/sanctions"/>
      </rdf:Seq>
    </items>
  </channel>
  <item rdf:about="https://wire.example/2024/sanctions">
    <title>New sanctions on shipping firms</title>
    <link>https://wire.example/2024/sanctions</link>
    <description>The measures take effect on Monday.</description>
    <dc:date>2024-03-05T09:30:00+01:00</dc:date>
    <dc:creator>Ana Lima</dc:creator>
  </item>
</rdf:RDF>
"""

RSS_20 = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>World Wire</title>
    <link>https://wire.example/</link>
    <description>News from everywhere</description>
    <item>
      <title>Kim Jong Un visits Moscow</title>
      <link>https://wire.example/2024/kim-moscow</link>
      <guid isPermaLink="false">wire-2024-0001</guid>
      <description>&lt;p&gt;The leader arrived by train on
        &lt;b&gt;Tuesday&lt;/b&gt;.&lt;/p&gt;</description>
      <pubDate>Tue, 12 Sep 2023 06:15:00 +0900</pubDate>
      <dc:creator>Jin Park</dc:creator>
    </item>
    <item>
      <title>Russia’s grain exports fall</title>
      <link>https://wire.example/2024/grain</link>
      <guid>https://wire.example/2024/grain</guid>
      <content:encoded><![CDATA[<p>Shipments dropped <em>sharply</em>.</p>]]></content:encoded>
      <pubDate>Wed, 13 Sep 2023 10:00:00 GMT</pubDate>
    </item>
  </channel>
</rss>
""".encode()

ATOM_03 = b"""<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>World Wire (Atom 0.3)</title>
  <link rel="alternate" type="text/html" href="https://wire.example/"/>
  <modified>2004-05-02T10:00:00Z</modified>
  <entry>
    <title>Old-style Atom entry</title>
    <link rel="alternate" type="text/html" href="https://wire.example/2004/old"/>
    <id>tag:wire.example,2004:old</id>
    <issued>2004-05-02T12:00:00+02:00</issued>
    <modified>2004-05-02T10:00:00Z</modified>
    <summary>Written before Atom 1.0 existed.</summary>
    <author><name>Old Timer</name></author>
  </entry>
</feed>
"""

ATOM_10 = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">World Wire (Atom)</title>
  <link rel="alternate" href="https://wire.example/"/>
  <link rel="self" href="https://wire.example/atom.xml"/>
  <id>urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6</id>
  <updated>2024-03-05T09:30:00Z</updated>
  <entry>
    <title type="html">Putin &amp;amp; Xi meet in &lt;i&gt;Beijing&lt;/i&gt;</title>
    <link rel="alternate" href="https://wire.example/2024/putin-xi"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <published>2024-03-05T08:00:00+03:00</published>
    <updated>2024-03-05T09:30:00Z</updated>
    <author><name>Li Wei</name></author>
    <content type="xhtml">
      <div xmlns="http://www.w3.org/1999/xhtml"><p>Talks covered trade.</p></div>
    </content>
  </entry>
</feed>
"""

JSON_FEED_10 = b"""{
  "version": "https://jsonfeed.org/version/1",
  "title": "World Wire (JSON 1.0)",
  "home_page_url": "https://wire.example/",
  "feed_url": "https://wire.example/feed.json",
  "items": [
    {
      "id": "2024-0042",
      "url": "https://wire.example/2024/summit",
      "title": "Summit ends without a deal",
      "content_html": "<p>Leaders left <strong>early</strong>.</p>",
      "date_published": "2024-03-05T09:30:00-05:00",
      "author": {"name": "Sam Reed"}
    }
  ]
}
"""

JSON_FEED_11 = b"""{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "World Wire (JSON 1.1)",
  "home_page_url": "https://wire.example/",
  "items": [
    {
      "id": "https://wire.example/2024/vote",
      "url": "https://wire.example/2024/vote",
      "title": "Parliament votes on aid package",
      "summary": "A narrow majority is expected.",
      "content_text": "The full text of the bill runs to 300 pages.",
      "date_modified": "2024-03-06T12:00:00Z",
      "authors": [{"name": "Eva Stone"}, {"name": "Tom Field"}]
    },
    {
      "id": 7,
      "title": "Numeric ids are accepted",
      "content_text": "Some feeds use numbers."
    }
  ]
}
"""
