"""The gateway's three APIs (GATEWAY.md) as data and APIM policy XML, for any number of regions."""
