"""Private links: built from the routes, and found again only with their own kind's token."""

from booking.links import TOUR, VISIT, WAITLIST, find_private, private_path


def test_a_private_path_is_the_route_that_shows_the_record_and_finds_it_again(app, session, book, guides,
                                                                              request_tour):
    visit = book("2027-03-02T10:00")
    tour = request_tour("2027-03-16T10:00")
    session.commit()
    with app.test_request_context():
        for record, kind in ((visit, VISIT), (tour, TOUR)):
            path = private_path(record)
            endpoint, values = app.url_map.bind("").match(path)
            assert endpoint == kind.endpoint and values["reference"] == record.reference
            assert find_private(session, kind, values["reference"], values["token"]) is record
            # the reference as a person types it, in lower case with spaces around it
            assert find_private(session, kind, f" {record.reference.lower()} ", values["token"]) is record
            assert find_private(session, kind, record.reference, values["token"][:-1] + "x") is None
        visit_token = app.url_map.bind("").match(private_path(visit))[1]["token"]
        # a visit's token never opens a tour, nor a waiting-list entry of the same id
        assert find_private(session, TOUR, tour.reference, visit_token) is None
        assert find_private(session, WAITLIST, "WL-" + visit.reference[4:], visit_token) is None


def test_a_reissued_link_no_longer_opens_the_record(app, session, book):
    visit = book("2027-03-02T10:00")
    session.commit()
    with app.test_request_context():
        old_token = app.url_map.bind("").match(private_path(visit))[1]["token"]
        visit.token_version += 1
        session.commit()
        assert find_private(session, VISIT, visit.reference, old_token) is None
        assert app.test_client().get(f"/b/{visit.reference}/{old_token}").status_code == 404
