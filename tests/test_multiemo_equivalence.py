"""MultiEMO's DialogueRNN updating the speaker's party state alone computes what the update of every party
state computed (the others' were kept as they were): the reference below is that computation, run on the
same cells, inputs and dropout draws."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from baselines.multiemo import DialogueRNN


def every_party_forward(rnn: DialogueRNN, inputs, speakers, parties):
    """The replaced forward: the party cell over every party's state, the speaker's kept by a one-hot mix."""
    batch, length, width = inputs.shape
    rows = torch.arange(batch)
    party_states = inputs.new_zeros(batch, parties, width)
    global_state = emotion = inputs.new_zeros(batch, width)
    history, history_scores, outputs = [], [], []
    for t in range(length):
        u, speaker = inputs[:, t], speakers[:, t]
        global_state = rnn.dropout(
            rnn.global_cell(torch.cat([u, party_states[rows, speaker]], dim=-1), global_state)
        )
        if history:
            weights = torch.stack(history_scores).softmax(dim=0)
            context = (weights * torch.stack(history)).sum(dim=0)
        else:
            context = torch.zeros_like(u)
        history.append(global_state)
        history_scores.append(rnn.attention_score(global_state))
        updated = rnn.party_cell(
            torch.cat([u, context], dim=-1).repeat_interleave(parties, dim=0), party_states.flatten(0, 1)
        )
        speaking = F.one_hot(speaker, parties).to(inputs.dtype)[..., None]
        party_states = party_states * (1 - speaking) + rnn.dropout(updated.view_as(party_states)) * speaking
        emotion = rnn.dropout(rnn.emotion_cell(party_states[rows, speaker], emotion))
        outputs.append(emotion)
    return torch.stack(outputs, dim=1)


def outputs_and_gradients(rnn, inputs, speakers, parties, forward):
    torch.manual_seed(3)  # the same dropout draws for both, if both draw alike and in the same order
    rnn.zero_grad()
    inputs = inputs.clone().requires_grad_(True)
    states = forward(rnn, inputs, speakers, parties)
    (states * torch.linspace(-1, 1, states.numel()).view_as(states)).sum().backward()
    return states.detach(), {n: p.grad.clone() for n, p in rnn.named_parameters()}, inputs.grad


def test_dialogue_rnn_matches_the_every_party_update():
    torch.manual_seed(0)
    rnn = DialogueRNN(8, dropout=0.3).train()
    inputs, speakers, parties = torch.randn(4, 6, 8), torch.randint(0, 3, (4, 6)), 3
    got = outputs_and_gradients(rnn, inputs, speakers, parties, lambda r, *a: r(*a))
    expected = outputs_and_gradients(rnn, inputs, speakers, parties, every_party_forward)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    rnn.eval()
    torch.testing.assert_close(
        rnn(inputs, speakers, parties), every_party_forward(rnn, inputs, speakers, parties)
    )
