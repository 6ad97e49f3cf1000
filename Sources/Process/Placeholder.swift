import Envelope
