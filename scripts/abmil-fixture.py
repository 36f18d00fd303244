"""Reference forward and backward of gated-attention MIL (CLAM's Attn_Net_Gated + a linear classifier) in PyTorch,
for src/fl/abmil.test.ts. Run: /work/venv-ref/bin/python scripts/abmil-fixture.py > src/fl/fixtures/abmil-reference.json

Small widths (D=6, H=8, K=4, C=3, 5 tiles) keep the fixture small; the TS model takes the widths as parameters.
Matrices are written [in, out] row-major (torch Linear stores [out, in]) in ABMIL_PARAMETERS order."""
import json

import torch

torch.manual_seed(15)
D, H, K, C, N = 6, 8, 4, 3, 5


class GatedAbmil(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(D, H)
        self.attention_a = torch.nn.Linear(H, K)
        self.attention_b = torch.nn.Linear(H, K)
        self.attention_c = torch.nn.Linear(K, 1)
        self.classifier = torch.nn.Linear(H, C)

    def forward(self, x):
        h = torch.relu(self.fc(x))
        a = torch.tanh(self.attention_a(h))
        b = torch.sigmoid(self.attention_b(h))
        scores = self.attention_c(a * b).reshape(-1)
        attention = torch.softmax(scores, dim=0)
        pooled = attention @ h
        return self.classifier(pooled), attention


model = GatedAbmil().double()
with torch.no_grad():
    for p in model.parameters():
        p.normal_(0, 0.5)
x = torch.randn(N, D, dtype=torch.float64)
label = 2
logits, attention = model(x)
loss = torch.nn.functional.cross_entropy(logits.reshape(1, -1), torch.tensor([label]))
loss.backward()

order = [
    ("W1", model.fc.weight, True), ("b1", model.fc.bias, False),
    ("Va", model.attention_a.weight, True), ("ba", model.attention_a.bias, False),
    ("Ub", model.attention_b.weight, True), ("bb", model.attention_b.bias, False),
    ("wA", model.attention_c.weight, True), ("bA", model.attention_c.bias, False),
    ("Wc", model.classifier.weight, True), ("bc", model.classifier.bias, False),
]
flat = lambda t, transpose: (t.t() if transpose else t).reshape(-1).tolist()
print(json.dumps({
    "generator": "scripts/abmil-fixture.py (torch %s)" % torch.__version__,
    "shape": {"dim": D, "hidden": H, "attention": K, "classes": C},
    "tiles": x.reshape(-1).tolist(),
    "label": label,
    "parameters": [v for _, p, t in order for v in flat(p.detach(), t)],
    "logits": logits.tolist(),
    "attention": attention.tolist(),
    "loss": loss.item(),
    "gradient": [v for _, p, t in order for v in flat(p.grad, t)],
}))
