"""Media for the hall display (issue 23): images and MP4 videos the back office uploads,
checked by their content, kept in the data directory and served by us; and each zone's
playlist of them (with durations and date ranges), plus a "QR cards" item that shows the
most used procedures with a QR to their catalogue page.

- ``content``: what a file really is (Pillow for PNG/JPEG/WebP, the ISO-BMFF boxes for MP4);
- ``models``: ``MediaItem`` and ``PlaylistItem``;
- ``engine``: store, delete, set and read a playlist (session/actor/now, never commits);
- ``views``: ``/media/<name>``, the files themselves.
"""
