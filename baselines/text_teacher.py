"""The unimodal (text) teacher SUMMER distils from, evaluated on its own."""

from benchmark.modeling import register_model
from summer.teacher import build_teacher

register_model("text-teacher", description="the unimodal text teacher SUMMER distils from, on its own")(
    build_teacher
)
