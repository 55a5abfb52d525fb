"""Steps of a dub, each one typed item in and one result out (see ``base``), shared by the
batch runner (``dubkit translate``, ``Dubber``) and the stream runner (``dubkit live``)."""
