async def test_pages(site):
    for path in ["/programs/checkout/dependencies", "/programs/checkout/dependencies?level=item&sort=reason&order=desc", "/programs/checkout/dependencies?level=project"]:
        r = await site.get(path)
        print(path, r.status_code)
        if r.status_code != 200:
            print(r.text[:3000])
