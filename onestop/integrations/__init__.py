"""Adapters to other systems: the province's TTHC information system (hệ thống thông tin
giải quyết thủ tục hành chính cấp tỉnh). See docs/provincial-link.md.

config.py     the PROVINCE_* settings; no URL = the whole feature is hidden
adapter.py    the adapter interface (``ProvinceAdapter``) and what it answers
mapping.py    our dossier states <-> the portal's TrangThaiHoSo codes (one table), the
              DongBoHoSoMC record of a dossier
http_json.py  the first adapter: JSON over HTTP, field names of the national portal's guide
status.py     cached status reads for the kiosk and /lookup (2 s, never a hang)
models.py     ProvincePush: the outbox of pushes
engine.py     link mode (the clerk's provincial code on a ticket), queueing pushes
subscriber.py engine signals -> pushes, in the transaction of the change
outbox.py     sending pushes: claim, retry with backoff, dead after N attempts
worker.py     the push loop of a server process
"""
