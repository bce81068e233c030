"""(area: info) Where a site or a service is: the map link built from its coordinates or its
address. Only a link to openstreetmap.org: no embedded map, no third-party script, and the
visitor's phone opens it in the browser or in its own map app."""

from urllib.parse import urlencode

OSM = "https://www.openstreetmap.org/"
ZOOM = 17  # a street with its house numbers


def map_url(address: str = "", latitude: float | None = None, longitude: float | None = None):
    """A link to the place on OpenStreetMap: a marker at the coordinates where given, else a
    search for the address; None when there is neither."""
    if latitude is not None and longitude is not None:
        lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
        return f"{OSM}?{urlencode({'mlat': lat, 'mlon': lon})}#map={ZOOM}/{lat}/{lon}"
    if address.strip():
        return f"{OSM}search?{urlencode({'query': ' '.join(address.split())})}"
    return None
