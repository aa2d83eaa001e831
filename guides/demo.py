"""Demo guides: four categories, five roles and fourteen published guides.

Written for this project; the coach's real content stays in ../shared. Every row is
keyed by its slug, so loading twice leaves the same data behind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.text import slugify

from guides.models import Category, Guide, Role

CATEGORIES = [
    (
        "Emerging AI Roles",
        "What the new AI job titles involve day to day, and which backgrounds lead into each.",
    ),
    (
        "Technical AI Interview Mastery",
        "Preparation for the coding, ML theory, system design and research rounds of AI loops.",
    ),
    (
        "Strategic Career Planning",
        "Career moves, negotiation and leadership: planning the next step, not just the next "
        "application.",
    ),
    (
        "Data Infrastructure & Engineering",
        "The pipelines, platforms and data practices that production machine learning relies on.",
    ),
]

ROLES = [
    ("Student", "Students and recent graduates choosing a first role in AI."),
    ("Software engineer", "Engineers moving from backend, frontend or platform work into AI."),
    ("Data scientist", "Analysts and data scientists moving into modelling and applied science."),
    ("Researcher", "PhD students, postdocs and researchers moving into industry AI teams."),
    ("Engineering leader", "Managers and tech leads building or taking over AI teams."),
]

AI_ENGINEER = """
Job boards started using the title "AI engineer" in large numbers only a couple of years ago, and
the descriptions still vary wildly. Some read like a machine learning engineer role with a new
name; others describe a product engineer who happens to call a model API. Both exist, and knowing
which one you are looking at saves you from preparing for the wrong interview.

This guide describes the work as it tends to look in teams that ship features built on large
language models and other foundation models, and gives you a simple way to test whether the role
fits you.

## 1. Why this role exists

For most of the last decade, getting value from machine learning meant training your own models.
That needed data pipelines, labelled data, GPUs and people who could debug a loss curve. Foundation
models changed the starting point: a capable model is now a network call away, and the hard part
has moved to everything around it.

That "everything around it" is the AI engineer's territory: choosing a model, shaping its inputs,
connecting it to company data, measuring whether the output is good enough, and keeping cost and
latency under control once real users arrive.

## 2. A typical week

### 2.1 Building

Most of the time goes into ordinary software engineering with an unusual component in the middle.
Expect to write:

- retrieval code that finds the right documents or records for a request
- prompt templates and the code that fills them, versioned like any other source file
- tool definitions that let a model call internal services safely
- fallbacks for when the model times out, refuses or returns something malformed

### 2.2 Evaluating

The part newcomers underestimate is evaluation. A model that looks impressive on five hand-picked
examples can fail on the sixth in ways that embarrass the company. Good AI engineers build
evaluation sets early, grade outputs with a mix of automatic checks and human review, and refuse to
ship a change that has not been measured against them.

### 2.3 Operating

Once a feature is live, the work shifts to monitoring: cost per request, latency percentiles, error
and refusal rates, and drift in the kinds of questions users ask. A prompt that worked in March can
quietly degrade when a provider updates its model in June.

<!-- cta -->

## 3. How it differs from ML engineering

The overlap is real, but the centre of gravity differs. An ML engineer usually owns a model's
training and serving lifecycle: features, training jobs, model registries, batch or online
inference. An AI engineer more often treats the model as a dependency and owns the product
behaviour around it. Many teams need both, and people move between the two roles regularly.

## 4. Skills that matter most

### 4.1 Solid software engineering

APIs, testing, observability and careful data handling matter more than any model-specific trick.
Interviewers for these roles often run a standard coding round precisely because the job is mostly
engineering.

### 4.2 An evaluation mindset

Being able to say "this change improved answer accuracy from 71% to 78% on our 400-question set" is
worth more than any amount of enthusiasm about the latest model.

### 4.3 Enough ML to reason about failure

You do not need to derive backpropagation, but you should understand tokens and context windows,
embeddings and similarity search, sampling settings, fine-tuning versus prompting, and why models
produce confident nonsense.

## 5. Is it a fit for you?

The role tends to suit people who enjoy shipping, like ambiguous problems, and are comfortable with
probabilistic behaviour that cannot be fully unit-tested. If you prefer deep work on model
architecture or training efficiency, research engineering or ML engineering will probably suit you
better.

A practical test: build a small feature that answers questions over a set of documents you know
well, then write twenty questions with correct answers and measure it. If the measuring turned out
to be the part you enjoyed, this role is worth pursuing seriously.
"""

THREE_LANES = """
If you are moving into AI from software engineering, data science or academia, you will meet three
titles again and again: machine learning engineer, applied scientist and research engineer.
Companies use them inconsistently, but each has a recognisable core, and choosing the one that
matches your strengths makes every later step easier: the projects you build, the story you tell
and the interviews you prepare for.

## 1. Why the distinction matters

Hiring loops are built around a role's core. A candidate with a strong research record can fail an
ML engineer loop because it is weighted towards production coding, and an excellent backend
engineer can stall in an applied scientist loop that expects them to design experiments from
scratch. Applying to all three with the same CV spreads your preparation thin.

## 2. The three roles side by side

| | ML engineer | Applied scientist | Research engineer |
|---|---|---|---|
| Main output | Models in production | Experiments that move metrics | Research tooling |
| Usual background | Software engineering | Data science, PhD or MSc | Engineering plus maths |
| Coding bar | High | Medium to high | High |
| Modelling depth | Medium | High | Medium to high |
| Interview focus | Coding, ML design | Theory, experiments | Coding, papers |
| Judged on | Uptime, latency, cost | Offline and online metrics | Research speed |

Treat the table as a starting point. At a small company one person may do all three jobs; at a
large lab each may split further.

## 3. Reading a job description

### 3.1 Look at the verbs

"Deploy", "scale", "monitor" and "own the pipeline" point to ML engineering. "Design experiments",
"improve ranking quality" and "publish" point to applied science. "Implement", "optimise training
throughput" and "support researchers" point to research engineering.

### 3.2 Look at who you would sit with

Ask which team the role reports into. A role inside a product team usually behaves like applied
science or ML engineering, whatever its title. A role inside a research organisation usually means
research engineering.

### 3.3 Look at the interview loop

Recruiters will usually share the loop if you ask. A loop with two coding rounds and a system
design round is an engineering loop, whatever the title says.

<!-- cta -->

## 4. Matching the lane to your background

- **Backend and platform engineers** usually have the fastest route into ML engineering. Add one
  end-to-end project covering training, serving and monitoring.
- **Data scientists** tend to fit applied science, especially if they have run A/B tests. The gap
  to close is often code quality.
- **PhD graduates and researchers** fit applied science or research engineering. Decide whether you
  want to be judged on product impact or on enabling research.
- **Students** should pick the lane that matches their strongest evidence so far, not the one with
  the most exciting title.

## 5. Switching lanes later

None of these choices is permanent. Engineers move into applied science after a few years of close
work with scientists, and scientists move into engineering when they discover they enjoy building
systems. Your first role mainly decides what you will learn fastest, so pick the one where your
existing strengths get you through the door and let the new skills come from the job itself.

## 6. A quick self-check

Answer these honestly:

1. Would you rather spend a day making a service twice as fast, or making a model 2% more accurate?
2. Do you enjoy reading papers, or do you prefer reading code?
3. Which would bother you more: an outage, or an experiment result you could not explain?

Your answers usually point clearly at one column of the table.
"""

ROLES_VIDEO = """
This video is a quick orientation for anyone who has seen a dozen AI job titles and is not sure how
they relate. It is deliberately broad: each role gets a minute or two, with the questions to ask
yourself before going deeper. The notes below summarise the main points so you can skim them later
or share them with a friend.

## 1. Chapters

- **00:00** Why the titles are confusing, and why that is not your fault
- **01:30** Machine learning engineer: models in production
- **03:15** Applied scientist: experiments that move a product metric
- **05:00** Research engineer and research scientist: pushing the frontier
- **07:10** AI engineer: building products on foundation models
- **08:45** ML platform and data engineering: the foundations everyone relies on
- **10:20** How to choose your first target role

## 2. Key points

### 2.1 Titles follow the work, not the other way round

The same title can mean different work at different companies. Read the responsibilities, ask about
the interview loop, and ask who the role sits next to. Those three facts tell you more than the
title ever will.

### 2.2 Most roles are engineering roles

Apart from research scientist positions, nearly every AI role expects you to write
production-quality code. If you are coming from a non-engineering background, improving your coding
is rarely wasted effort, whichever role you choose.

### 2.3 Evidence beats enthusiasm

Hiring managers look for proof that you have already done a version of the job: a project that went
from raw data to a working system, an experiment you designed and analysed, a tool other people
actually used. One well-documented project is worth more than five half-finished ones.

### 2.4 Your background is an asset

Backend engineers bring reliability and system design. Data scientists bring experiment design and
statistical care. Researchers bring depth and the ability to work on problems without a known
answer. The best first role is usually the one where your existing strength counts most.

## 3. After watching

Pick the one or two roles that sounded closest to the work you enjoy, then read the longer guides
for those roles in this section. If you are still unsure, write down three projects you have done
and which part of each you liked most; patterns appear quickly.

If two roles still look equally attractive, choose the one with the shorter path from where you are
today. Your first AI role is a starting point, not a final destination, and the quickest way to
learn which direction suits you is to spend a year doing real work in one of them.

## 4. A short exercise

Before you move on, spend ten minutes on this:

1. Open three job descriptions for the role that interested you most.
2. Highlight every responsibility you have already done, even on a small scale.
3. Circle the ones you have never done.

The highlighted items are your story; the circled ones are your learning plan. Bring both lists to
your next conversation with a mentor or coach, and you will get far more specific advice than a
general question about "breaking into AI" could ever produce.
"""

LAB_TO_PRODUCT = """
Researchers who move into industry often find that the technical work is easier than expected and
everything around it is harder. The models are familiar and the maths is familiar, but the pace,
the definition of success and the way decisions are made all change. Knowing this in advance makes
the transition far smoother.

## 1. Why companies hire researchers

Applied AI teams hire people with research backgrounds for specific strengths: reading the
literature quickly and critically, designing experiments that actually answer a question, and
staying productive when nobody knows whether a problem can be solved at all. Those strengths are
rare among engineers, and they are the reason your application is interesting.

## 2. What changes

### 2.1 The definition of done

In research, a result is done when it is novel and convincingly supported. In a product team, a
result is done when it improves something users notice, runs within a budget and can be maintained
by someone else. A simple baseline that ships this month often beats a sophisticated method that
ships next quarter.

### 2.2 The time horizon

Academic projects run for months or years. Product teams plan in weeks. There is still room for
deep work, but you will be expected to show intermediate progress and to decide early when an idea
is not worth pursuing.

### 2.3 Who you are writing for

Your audience is no longer reviewers in your subfield. It is a product manager who needs a
decision, an engineer who needs to run your code, and a director who needs a one-paragraph summary.
Writing for them is a skill, and it is learnable.

## 3. Habits that transfer well

- Keeping an experiment log, with hypotheses written down before results arrive
- Building strong baselines before trying anything clever
- Reading individual failure cases, not just aggregate metrics
- Being honest about uncertainty and the limits of a result

## 4. Habits to adjust

### 4.1 Treating code as disposable

Research code is often written to be run once. In a product team, the code you write will be read,
reviewed and extended by others. Learn your team's testing and review conventions early, and ask
for candid feedback on your first few pull requests.

### 4.2 Working alone

Many researchers are used to owning a project end to end. In industry, the best results usually
come from pairing with an engineer who knows the production system. Ask for that pairing explicitly
if it is not offered.

### 4.3 Novelty as the goal

Nobody will reward you for a new method if an old one would have worked. Make the case for
complexity only when the simple approach has been tried and measured.

## 5. Your first six months

A useful plan looks like this:

1. **Month one:** learn the product, the data and the deployment path. Ship one small change,
   however minor, to understand the process end to end.
2. **Months two and three:** take ownership of one well-defined modelling problem with a clear
   metric, starting from the strongest simple baseline.
3. **Months four to six:** propose an improvement grounded in what you have learnt, with an
   evaluation plan agreed in advance.

By the end of this period, your colleagues should see you as someone who brings rigour without
slowing things down. That reputation is what opens the more ambitious projects later.
"""

SYSTEM_DESIGN = """
The ML system design round is where senior candidates are most often separated. Coding rounds check
a bar; this round decides the level. It is also the round people prepare for least systematically,
because it feels open-ended and there is no single right answer.

There is no single right answer, but there is a recognisable shape to a strong one. Interviewers
want to see you turn a vague product goal into a measurable problem, make sensible choices about
data and models, and reason about what happens after launch. The framework below gives you that
shape, so you can spend your attention on the problem rather than on what to say next.

<!-- more -->

## 1. The six steps

### 1.1 Clarify the goal

Start by restating the product goal and asking what success looks like. "Recommend videos" becomes
"increase the time users spend on videos they rate positively, without increasing the share of
content flagged as low quality". Ask about scale, latency requirements and existing systems. Two or
three good questions are enough; do not interrogate the interviewer for ten minutes.

### 1.2 Frame it as an ML problem

Name the prediction target, the unit of prediction and the source of labels. Say explicitly what
you will not model and why. This is the step where many candidates go wrong, because a poor framing
makes every later choice look weak.

### 1.3 Data and features

Describe where labels come from and how you will handle delay and bias in them, then name the
feature groups that matter: user, item, context and interaction history. Mention freshness
requirements and how features reach the model at serving time.

### 1.4 Model choice

Start with a baseline you could ship in a week, then describe what you would try next and why.
Interviewers care less about the fanciest architecture than about whether you can justify the
progression.

### 1.5 Evaluation

Cover offline metrics, how you will build the evaluation set, and how you will run an online
experiment. Connect the offline metric back to the product goal from step one.

### 1.6 Serving and operations

Describe the serving path, the latency budget, caching, fallbacks and monitoring. Say what you
would alert on and how you would detect drift.

## 2. What changes at senior level

At mid level, covering all six steps competently is usually enough. At senior level, interviewers
look for judgement:

- **Trade-offs stated out loud.** "A two-stage retrieval and ranking design adds complexity, but at
  this catalogue size a single model cannot score every item within 100 milliseconds."
- **Prioritisation.** Spend the most time where the problem is genuinely hard, and say why.
- **Failure modes.** Feedback loops, cold start, label leakage and abuse. Raise them before you are
  asked.
- **Organisational reality.** Who owns the features, how the model gets retrained, and what happens
  when the on-call engineer is not an ML specialist.

## 3. Common mistakes

### 3.1 Jumping to the model

Naming a transformer architecture in the first three minutes signals that you are pattern matching
rather than designing. Earn the model choice.

### 3.2 Ignoring the label

Many systems fail because the label is a poor proxy for the goal. Clicks are not satisfaction. Say
so, and propose how to do better, for example by combining implicit signals with a small amount of
explicit feedback.

### 3.3 Running out of time before serving

Keep an eye on the clock. If you reach minute thirty and are still discussing features, summarise
and move on. An answer that touches all six steps beats a brilliant answer to three of them.

## 4. How to practise

Choose five common prompts: a feed ranker, a search system, a fraud detector, a notification sender
and a support assistant built on a language model. For each, write a one-page design using the six
steps, then explain it out loud in thirty-five minutes to a friend or a recording. Afterwards, list
the questions you could not answer confidently; they are your study list for the following week.
"""

CODING_ROUNDS = """
Candidates preparing for AI roles often assume the coding round will be about machine learning.
Usually it is not. Most loops include at least one standard data structures and algorithms
interview, and many add a second round that asks you to implement something ML-flavoured from
scratch. Both are passable with focused preparation.

## 1. The two kinds of coding round

### 1.1 The general round

This is the same interview software engineers face: arrays, hash maps, trees, graphs, heaps and a
dash of dynamic programming. The bar is sometimes slightly lower for scientist roles than for
engineering roles, but not by as much as people hope.

### 1.2 The ML implementation round

Here you implement a small piece of ML machinery in plain Python or NumPy: k-means, a metric such
as precision at k, a tokenizer, a simple training loop, or sampling from a distribution. The
interviewer is checking that you understand the algorithm well enough to write it without a
library, and that your code stays clean under pressure.

## 2. What interviewers look for

- A correct solution, reached by talking through your approach before typing
- Sensible handling of edge cases: empty inputs, ties, numerical stability
- Readable names and small functions rather than one long block
- Tests, or at least worked examples that you trace through by hand
- A complexity analysis you can state without being prompted

## 3. A worked example

A common prompt: "Given a list of predicted scores and true binary labels, compute precision at k."
Here is a clean answer:

```python
def precision_at_k(scores: list[float], labels: list[int], k: int) -> float:
    # Share of relevant items among the k highest-scored ones.
    if k <= 0:
        raise ValueError("k must be positive")
    if len(scores) != len(labels):
        raise ValueError("scores and labels must have the same length")
    ranked = sorted(zip(scores, labels), key=lambda pair: pair[0], reverse=True)
    top = ranked[:k]
    if not top:
        return 0.0
    return sum(label for _, label in top) / len(top)


assert precision_at_k([0.9, 0.2, 0.8, 0.4], [1, 0, 0, 1], k=2) == 0.5
```

Talk about your choices as you write. Sorting costs O(n log n); if k is small relative to n,
`heapq.nlargest` gets you O(n log k). Mention how you handle ties, and whether a k larger than the
list should divide by k or by the list length. Interviewers care less about which convention you
pick than about whether you noticed there was a choice.

<!-- cta -->

## 4. A preparation plan

### 4.1 Weeks one to three: fundamentals

Solve two or three problems a day across the standard topics. Focus on patterns, not volume: two
pointers, sliding windows, breadth-first search, heaps for top-k, prefix sums. Re-solve any problem
you could not finish a week later.

### 4.2 Week four: ML implementations

Implement from scratch, without looking anything up: k-means, logistic regression with gradient
descent, a stratified train and test split, precision and recall at k, a numerically stable softmax
and a reservoir sampler. Give yourself thirty minutes for each.

### 4.3 Throughout: practise out loud

Silent practice builds the wrong habit. Explain every solution as if someone were listening, or
record yourself. It feels awkward for a week and then becomes natural.

## 5. On the day

Read the question twice and restate it. Write two examples, including an edge case, before coding.
If you get stuck, say what you are considering and why; a silent candidate is much harder to help.
Leave five minutes at the end to walk through your code with a test input.
"""

FUNDAMENTALS = """
Theory rounds are less predictable than coding rounds, but the range of topics is smaller than it
looks. Most questions come from a core of perhaps thirty concepts, asked in different ways. This
study guide organises that core into four weeks of about six hours each, with questions you should
be able to answer out loud at the end of every week.

Use it as a checklist. If you can already answer a week's questions comfortably, skip to the next
one.

## 1. Week one: learning and generalisation

### 1.1 Topics

- Supervised, unsupervised and self-supervised learning, with one example of each
- The bias and variance trade-off, and how it shows up in learning curves
- Overfitting and regularisation (L1, L2, dropout, early stopping), and why each works
- Train, validation and test splits; cross-validation; data leakage

### 1.2 Self-test

1. Your training loss keeps falling while validation loss rises. What is happening, and what would
   you try, in order?
2. Why does L1 regularisation produce sparse weights while L2 does not?
3. Give two realistic ways information from the test set can leak into training.

## 2. Week two: models

### 2.1 Topics

- Linear and logistic regression, including their loss functions and assumptions
- Decision trees, random forests and gradient-boosted trees
- Neural networks: layers, activations and backpropagation at a conceptual level
- Embeddings, and why they make similarity search possible

### 2.2 Self-test

1. When would you prefer gradient-boosted trees to a neural network for tabular data?
2. Explain backpropagation to someone who knows calculus but not machine learning.
3. What does it mean for two items to be close in embedding space, and when can that mislead you?

<!-- cta -->

## 3. Week three: evaluation

### 3.1 Topics

- Precision, recall, F1, ROC AUC and PR AUC, and when each is appropriate
- Ranking metrics: precision at k, recall at k, NDCG and mean reciprocal rank
- Calibration, and why well-calibrated probabilities matter for decisions
- Offline metrics versus online experiments, and why they disagree

### 3.2 Self-test

1. Your fraud model has 99% accuracy. Why might that be useless?
2. When is PR AUC more informative than ROC AUC?
3. An offline metric improved but the A/B test showed no change. List three possible reasons.

## 4. Week four: modern models and practice

### 4.1 Topics

- Transformers and attention at the level of a whiteboard sketch
- Pretraining, fine-tuning and parameter-efficient fine-tuning
- Retrieval-augmented generation and its failure modes
- Evaluating generative models: reference-based metrics, model-graded evaluation, human review

### 4.2 Self-test

1. Why does attention scale quadratically with sequence length, and what are two ways people work
   around it?
2. When would you fine-tune rather than improve retrieval or prompting?
3. How would you measure whether a support assistant gives correct answers?

## 5. How to study

Read briefly, then explain out loud. For each topic, write a three-sentence explanation without
notes and compare it with a trusted source; the gaps you find are the gaps interviewers will find.
At the end of each week, ask a friend to pick five self-test questions at random and answer each
against a five-minute timer.

## References

1. https://example.org/ml-fundamentals/bias-and-variance
2. https://example.org/ml-fundamentals/evaluation-metrics
3. https://example.org/ml-fundamentals/transformers-overview
4. https://example.org/ml-fundamentals/retrieval-augmented-generation
"""

RESEARCH_TALK = """
Many applied AI loops for candidates with a research background include a research presentation or
a deep-dive conversation about past work. It is one of the few rounds where you control the
material completely, and yet it is often the round candidates leave feeling least confident. The
problem is rarely the research. It is the framing.

Conference talks are built for experts who care about novelty. An interview panel cares about
something else: whether the way you worked on this problem tells them how you would work on theirs.
The guidance below helps you rebuild your story around that question.

<!-- more -->

## 1. Choose the right project

### 1.1 Criteria

Pick the project where you made the most decisions yourself, not necessarily the most prestigious
one. Good candidates have:

- a clear problem that a non-specialist can grasp in two sentences
- a point where you changed direction because of evidence
- a result with a measurable outcome, even a negative one
- a part you would do differently now

### 1.2 Multi-author work

If the work was a team effort, be precise about your contribution. Panels ask, and vague answers
damage trust quickly. "I designed the evaluation and wrote the data pipeline; my co-author led the
model architecture" is a strong sentence, not a weak one.

## 2. Structure the story

A structure that works for fifteen minutes:

1. **The problem and why it mattered** (two minutes). Start with the practical consequence, not the
   related work.
2. **What you tried first and why it failed** (three minutes). This is where you show judgement.
3. **The approach that worked** (four minutes). One diagram, one key idea. Resist the urge to show
   every ablation.
4. **How you knew it worked** (three minutes). Evaluation design, baselines, and what could have
   fooled you.
5. **What you would do in a product setting** (three minutes). Cost, latency, the data you would
   need and how you would ship a first version.

The last section is the one most candidates skip, and it is the one applied teams care about most.

## 3. Handle the questions

### 3.1 Expect three kinds

Engineers will ask how it would run at scale. Scientists will probe your evaluation and baselines.
Managers will ask about collaboration and what you learnt. Prepare two or three answers for each
kind.

### 3.2 Saying "I don't know"

You will be asked something you have not considered. Say so, then reason about it out loud: "I
didn't test that. My guess is that performance would drop on longer inputs, because the training
data was mostly short, and I'd check it by slicing the evaluation set by length." That answer
usually scores better than a confident guess.

## 4. Rehearse with the right audience

Practise once with a researcher from your field to check accuracy, and at least twice with someone
outside it, ideally an engineer. If the outsider cannot repeat your main point back to you
afterwards, simplify. Record one rehearsal and watch it at double speed: you will see exactly where
the story drags.

## 5. Materials

Keep slides sparse: one idea per slide, large figures and few equations. Prepare a backup slide for
each of the three questions you expect most. Bring a one-page summary of the project as a PDF in
case the panel would rather talk than watch slides.
"""

BACKEND_SWITCH = """
Backend engineers are among the best-placed people to move into AI engineering and ML engineering,
and many underestimate how much of the job they already do. Reliable services, data pipelines,
APIs, observability and careful handling of failure are exactly what most AI teams are short of.
What you need to add is narrower than it looks from outside.

This guide lays out a six-month plan for people working full time. It assumes roughly six to eight
hours a week of evenings and weekends.

## 1. What you already have

List it explicitly, because you will need it for your CV and your interviews:

- designing and operating services under real load
- working with databases, queues and caches
- writing tests and debugging production incidents
- reading unfamiliar code and documentation quickly

These are not vague transferable skills. They are core requirements in most AI engineering job
descriptions, usually listed right after the ML ones.

## 2. What to add

### 2.1 Working ML knowledge

You need enough to make sound decisions and talk credibly in interviews: how models are trained and
evaluated, embeddings and similarity search, how language models handle context, and when
fine-tuning is worth it. Aim for depth on evaluation in particular; it is where engineers add the
most value.

### 2.2 One substantial project

One project that looks like real work beats a collection of tutorials. Build something end to end:
data in, a model or model API in the middle, a service out, with an evaluation set and monitoring.
Write a short design document explaining your choices.

### 2.3 A story that connects the two

Interviewers want to know why you are moving and why you will be good at it. Your story should link
what you have done to what they need.

> The strongest switchers do not present themselves as beginners in AI. They present themselves as
> experienced engineers who have taken the time to learn how AI systems fail, and who can make
> those systems dependable.

<!-- cta -->

## 3. The six-month plan

### 3.1 Months one and two: foundations

Work through a structured ML course at a steady pace and implement the core algorithms yourself at
least once. In parallel, build a tiny retrieval-based question answering service over documents you
know well, so that theory connects to practice straight away.

### 3.2 Months three and four: the main project

Choose a problem close to your current domain, where your experience is an advantage. A payments
engineer might build transaction categorisation; an infrastructure engineer might build log
summarisation with an evaluation harness. Ship it, measure it and write it up.

### 3.3 Month five: move inside your company if you can

Internal moves are the easiest route. Offer to help the ML or data team with a production problem
such as a slow pipeline, a flaky serving path or missing monitoring. A few weeks of useful work
there is worth more than any certificate.

### 3.4 Month six: apply and interview

Target roles where your background counts: AI engineering, ML platform, ML infrastructure, and ML
engineering at companies with mature products. Start preparing for ML system design early; it is
the round switchers find hardest.

## 4. Common traps

- Starting with deep learning theory and never building anything
- Collecting certificates instead of evidence
- Applying only to research-heavy roles, where your strengths count least
- Hiding your backend experience instead of leading with it

## 5. A final word on timing

Six months is a typical timeline, not a deadline. Some people move in three months through an
internal opening; others take a year because their first applications reveal gaps worth closing.
Either is fine, as long as you are adding evidence every month.
"""

NEGOTIATION = """
Offers for AI roles vary more than offers for most engineering roles. Two companies can hire for
the same title at levels a full band apart, with equity packages that are hard to compare and
signing bonuses that disappear after a year. Candidates who negotiate well are rarely the most
aggressive; they are the ones who understand what is actually on the table.

This guide covers the parts of an offer that matter most for AI roles, in the order they usually
matter, and the conversations that get them improved without damaging your relationship with your
future manager.

<!-- more -->

## 1. Level first, money second

### 1.1 Why the level matters most

The level sets your salary band, your equity range, your scope and the timeline to your next
promotion. A higher base at the wrong level often costs you more over three years than a modest
base at the right one. Negotiate the level before you negotiate numbers.

### 1.2 How to make the case

Levelling is decided by the panel's feedback and by comparable offers. Ask the recruiter which
level you are being considered for and what would have been needed for the next one up. If your
experience includes leading projects, mentoring or owning production ML systems, set out that
evidence in writing.

## 2. Understanding the package

### 2.1 Equity

For public companies, value restricted stock units at today's price, then discount for volatility.
For private companies, ask for the number of shares, the latest preferred price, the total shares
outstanding and the exercise window for options. Without those four facts you cannot compare offers
meaningfully.

### 2.2 The rest of the package

- **Signing bonus:** useful for covering equity you leave behind, but check the clawback terms.
- **Annual bonus:** ask for the target percentage and how often it has paid out in full.
- **Refreshers:** ask how ongoing equity grants work; they shape your pay in years three and four.
- **Compute and tooling:** for research-heavy roles, access to GPUs and data matters as much as
  salary.

<!-- cta -->

## 3. The conversation

### 3.1 Be enthusiastic and specific

Start by saying you want to join and what excites you about the role. Then make a specific request
with a reason: "Given that I led the ranking platform at my current company, I expected this to be
at the senior level. Can we revisit that?" Specific requests with reasons get considered; vague
requests for "a bit more" rarely do.

### 3.2 Use competing offers carefully

A competing offer is the strongest lever you have, but only if it is real and you would consider
accepting it. Share the level and the total, not every detail, and never bluff.

### 3.3 Know your walk-away point

Decide in advance the minimum you would accept, and what matters beyond money: the team, the
manager, the problem. Candidates without a walk-away point tend to accept the first revision out of
fatigue.

## 4. Questions to ask before you sign

1. What would my first project be, and how will success be measured in the first six months?
2. How are promotions decided, and how many people on the team were promoted in the last cycle?
3. How much of the team's work reaches production, and how long does that usually take?
4. Who decides which models and infrastructure the team uses?
5. What happened to the last person in this role?

The answers tell you whether the job matches the offer letter. An offer is only as good as the role
behind it, so give the answers as much weight as the numbers.
"""

LEADING_AI_TEAMS = """
Engineering managers who take over an AI or ML team usually bring strong instincts from
conventional software teams, and most of those instincts still serve them well. A few do not.
Planning is less predictable, quality is harder to define, and the team's best people often care
about different things than the best backend engineers do.

The managers who do well in their first year are the ones who notice these differences early and
adjust deliberately, rather than forcing familiar processes onto work that behaves differently.

<!-- more -->

## 1. Planning under uncertainty

### 1.1 Experiments are not tickets

A feature ticket has a known outcome and an uncertain timeline. An ML experiment has an uncertain
outcome as well. Planning the two the same way produces either missed commitments or a team that
only attempts safe work.

### 1.2 What works instead

- Plan in time-boxed bets: "two weeks to find out whether better negative sampling improves recall
  by at least three points".
- Agree the success criterion and the stop condition before the work starts.
- Report learning as progress. A well-run experiment that rules out an approach is a result, not a
  failure.

## 2. Defining quality

In conventional software, quality is mostly binary: the feature works or it does not. In AI
systems, quality is a distribution. Your team needs agreed evaluation sets, agreed metrics and a
shared understanding of which failures are acceptable. Make owning the evaluation suite an explicit
responsibility, with the same weight as owning a service.

## 3. Hiring

### 3.1 Hire for the gap

AI teams often end up lopsided: many modellers and nobody who enjoys operating production systems,
or the reverse. Map your team's strengths against the lifecycle, from data and training to serving
and monitoring, and hire for the weakest stage.

### 3.2 Calibrate your loop

If your interviewers mostly come from one background, your loop will select for that background.
Include at least one interviewer who has shipped ML systems to production and one who can assess
modelling depth.

## 4. Working with stakeholders

### 4.1 Set expectations about uncertainty

Product partners used to predictable delivery may find ML timelines frustrating. Explain early that
some bets will fail, share evaluation numbers openly, and offer a simpler fallback plan alongside
every ambitious one.

### 4.2 Translate metrics into outcomes

Executives rarely care about an F1 score. They care about fewer support tickets, faster reviews or
higher conversion. Keep a one-line translation for every model metric your team reports.

## 5. Growing your own understanding

You do not need to be the strongest modeller on your team, but you do need enough depth to ask good
questions and spot weak reasoning. Set aside a few hours a week to read your team's design
documents closely, attend their experiment reviews, and ask them to explain anything you do not
follow. Most engineers enjoy teaching a manager who is genuinely curious.

## 6. Your first ninety days

1. Meet each person and ask what slows them down most.
2. Review how the team evaluates models and where that evaluation is weakest.
3. Trace one model from its training data to production and note every manual step.
4. Agree two or three priorities with your own manager, at least one of them about reliability.
"""

FEATURE_STORES = """
Feature stores appear in almost every reference architecture for machine learning, and they come up
often in ML system design interviews. Yet many successful teams run without one for years.
Understanding the problem a feature store solves is more useful than knowing any particular
product, both on the job and in interviews.

## 1. The problem

### 1.1 Training-serving skew

A model learns from features computed in a batch job over historical data. At serving time, the
same features must be computed from live data in milliseconds. If the two computations differ, even
subtly, for example in how a time window is defined or how missing values are filled, the model
sees different inputs in production than it saw in training. Accuracy drops, and nothing obvious
breaks.

### 1.2 Point-in-time correctness

When you build a training set, each example must use feature values as they were at the time of the
event, not as they are today. Joining a label from March to a feature value from May leaks the
future into training. Offline metrics look excellent; production results do not.

### 1.3 Reuse

Without shared infrastructure, every team computes "number of orders in the last thirty days"
slightly differently. Models disagree, and nobody knows which definition is correct.

## 2. What a feature store provides

- A single definition for each feature, used for both training and serving
- An offline store for building point-in-time correct training sets
- An online store, usually a key-value database, for low-latency lookups
- Metadata: owners, freshness, lineage and documentation

## 3. The costs

A feature store is another system to run, with its own failure modes and on-call burden. It shapes
how data scientists work, and it can slow experimentation if every new feature needs a review and a
pipeline. For small teams, the operational cost can outweigh the benefit.

## 4. When you probably do not need one

### 4.1 Batch predictions only

If your model scores data in a nightly batch job and writes the results to a table, training and
serving already share a code path. A feature store adds little.

### 4.2 One or two models

With few models and a small team, a shared library of feature functions, plus tests that compare
offline and online values, gives you most of the benefit at a fraction of the cost.

### 4.3 Features computed inside the request

Some models use only information available in the request itself, such as the text of a search
query. There is nothing to store.

## 5. When you probably do

- Many models share features across teams
- Online models need fresh aggregates computed over event streams
- You have had incidents caused by training-serving skew
- Building a training set takes days because of manual point-in-time joins

## 6. In an interview

When a design question involves real-time features, mention skew and point-in-time correctness
explicitly, then propose the simplest design that addresses them. Saying "at this scale I'd start
with a shared feature library and a consistency check, and introduce a feature store once several
teams depend on the same features" shows more judgement than reaching for one by default.

## References

1. https://example.org/data-engineering/training-serving-skew
2. https://example.org/data-engineering/point-in-time-joins
3. https://example.org/data-engineering/online-and-offline-stores
"""

DATA_QUALITY = """
When a model's performance drops in production, the cause is usually not the model. It is a column
that changed meaning, a join that started dropping rows, or an upstream team that switched a unit
from seconds to milliseconds. Teams that treat data quality as an engineering discipline spend far
less time on these incidents, and they ship new models with more confidence.

## 1. Why ML makes data problems worse

### 1.1 Silent failures

A broken service throws errors. A model fed bad data keeps returning predictions, just worse ones.
Without explicit checks, the problem surfaces weeks later as a dip in a business metric that nobody
can explain.

### 1.2 Long dependency chains

A typical model depends on dozens of upstream tables, each owned by someone else, and any of them
can change without notice. The further a model sits from its sources, the more defences it needs.

## 2. Data contracts

A data contract is an agreement between the team that produces a dataset and the teams that consume
it. It typically covers:

- the schema: column names, types and whether nulls are allowed
- the meaning of each column, including units and time zones
- freshness: how often the data arrives and the longest acceptable delay
- the process for breaking changes, including notice periods

Contracts work best when they live next to the code that produces the data and are checked
automatically in continuous integration. A contract on a wiki page that nobody reads protects
nobody.

<!-- cta -->

## 3. Automated checks

### 3.1 Checks at ingestion

Validate the schema, row counts and null rates as data arrives. Compare today's row count with the
same weekday last week; a drop beyond an agreed percentage should block downstream jobs rather than
raise a warning nobody reads.

### 3.2 Checks on distributions

For important features, track summary statistics over time: mean, percentiles and the share of
distinct values. Alert when they move beyond a threshold agreed with the model's owner. This
catches unit changes and broken upstream logic that schema checks miss.

### 3.3 Checks on training sets

Before training, verify the label balance, the time range covered and the absence of duplicate
examples across training and test splits. These checks take minutes to write and prevent some of
the most embarrassing results in machine learning.

## 4. Ownership

### 4.1 Every dataset needs a named owner

Not a team alias: a person or a rota. When a check fails at three in the morning, somebody must be
responsible for deciding whether to block the pipeline.

### 4.2 Severity levels

Agree which failures block training or serving and which only warn. With too many blocking checks
people start disabling them; with too few, bad data reaches production.

## 5. Where to start

If your team has nothing in place, start small:

1. List the five tables your most important model depends on.
2. For each, write schema, freshness and row-count checks.
3. Add distribution checks for the ten most important features.
4. Agree an owner and a severity level for each check.

That is a week or two of work for one engineer, and it pays for itself after the first incident it
prevents.

## References

1. https://example.org/data-quality/data-contracts-in-practice
2. https://example.org/data-quality/distribution-monitoring
3. https://example.org/data-quality/ownership-and-on-call
"""

PLATFORM_ENGINEER = """
ML platform teams build the shared infrastructure that lets data scientists and ML engineers train,
evaluate, deploy and monitor models without reinventing everything for each project. Data engineers
are natural candidates for these teams, because most of a platform's hardest problems are data
problems: moving large volumes reliably, keeping pipelines reproducible, and making datasets
discoverable and trustworthy.

## 1. What an ML platform team does

### 1.1 The typical scope

- Training infrastructure: job orchestration, distributed training, experiment tracking
- Data for ML: feature pipelines, training set generation, dataset versioning
- Deployment: model registries, serving infrastructure, rollout and rollback
- Monitoring: prediction logging, drift detection, performance dashboards

### 1.2 Who the customers are

The platform's users are internal: data scientists and ML engineers. Good platform engineers treat
them like customers, with documentation, support and a roadmap shaped by their needs.

## 2. What transfers directly

Your existing experience covers a lot of this. Orchestrating batch pipelines, modelling data,
working with distributed processing frameworks, managing data quality and handling schema evolution
are daily tasks on an ML platform. Many platform leads say their hardest hiring gap is exactly this
kind of data experience.

## 3. Gaps to close

### 3.1 The ML lifecycle

Learn how models are trained, evaluated and deployed, and where each step typically breaks. You do
not need to be a modeller, but you should be able to follow a data scientist's workflow and see
where the platform could help.

### 3.2 Serving and latency

Data engineers often work in batch. Platform work includes online serving with latency budgets
measured in milliseconds. Learn the basics of model serving, caching and autoscaling, and the
trade-offs between batch and real-time inference.

### 3.3 Compute for training

Understand GPU scheduling at a conceptual level, why training jobs fail and how checkpointing
works. Managing the cost of training compute is a growing part of most platform roles.

## 4. A bridging project

Build a small but complete platform slice: a pipeline that produces a versioned training set, a
training job that logs its metrics and artefacts, a registry entry for the resulting model, and a
simple serving endpoint with prediction logging. Use open-source tools and document your design
choices. This single project demonstrates every stage of the lifecycle in terms hiring managers
recognise.

## 5. Presenting the move

Frame your story around problems you have already solved for ML users: a training data pipeline you
built, a data quality incident you resolved for a model team, a dataset you made reproducible. If
you have none yet, create the opportunity at your current job by offering to help the ML team with
their data pipelines for a quarter.

In interviews, expect a system design round about a platform component, such as a feature pipeline
or a training orchestration service, and questions about supporting internal users. Prepare
examples of helping other engineers adopt a tool you built; platform teams value that as much as
technical depth.

## 6. Questions to ask the platform team

Before accepting an offer, ask a few questions that reveal how the platform is run:

- How many teams use the platform today, and which of them chose not to?
- How is the roadmap decided, and how often do users shape it?
- Who is on call for training and serving failures?
- What was the last major incident, and what changed afterwards?

Teams with clear, specific answers usually run their platform as a product. Vague answers suggest a
collection of tools that nobody fully owns, which can still be a good opportunity if you want to be
the person who fixes that.
"""


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 8, 0, tzinfo=UTC)


def _guide(
    slug: str,
    title: str,
    summary: str,
    category: str,
    roles: list[str],
    body: str,
    published_at: datetime,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "summary": summary,
        "category": category,
        "roles": roles,
        "body": body.strip() + "\n",
        "published_at": published_at,
        "kind": Guide.Kind.ARTICLE,
        "level": Guide.Level.NONE,
        "visibility": Guide.Visibility.PUBLIC,
        "is_featured": False,
        "video_url": "",
        **extra,
    }


ROLES_CAT = "emerging-ai-roles"
INTERVIEWS_CAT = "technical-ai-interview-mastery"
CAREER_CAT = "strategic-career-planning"
DATA_CAT = "data-infrastructure-engineering"

GUIDES = [
    _guide(
        "what-an-ai-engineer-actually-does",
        "What an AI engineer actually does",
        "A plain look at the day-to-day work behind the AI engineer title, how it differs from "
        "ML engineering, and how to tell whether it suits you.",
        ROLES_CAT,
        ["software-engineer", "student"],
        AI_ENGINEER,
        _at(1, 13),
        is_featured=True,
    ),
    _guide(
        "ml-engineer-applied-scientist-research-engineer",
        "ML engineer, applied scientist or research engineer: choosing your lane",
        "Three titles that overlap on paper but hire for different strengths. How they differ in "
        "daily work, interviews and career paths, side by side.",
        ROLES_CAT,
        ["software-engineer", "data-scientist", "researcher"],
        THREE_LANES,
        _at(2, 3),
        is_featured=True,
    ),
    _guide(
        "ai-roles-explained",
        "AI roles explained: a twelve-minute tour",
        "A short video walk-through of the main AI job families, what each is hired to do, and "
        "which backgrounds usually lead into them.",
        ROLES_CAT,
        ["student", "software-engineer", "data-scientist"],
        ROLES_VIDEO,
        _at(2, 24),
        kind=Guide.Kind.VIDEO,
        video_url="https://video.example.com/ai-roles-explained",
    ),
    _guide(
        "from-the-lab-to-an-applied-ai-team",
        "From the lab to an applied AI team: a guide for researchers",
        "What changes when a researcher joins a product-facing AI team, which habits transfer "
        "well, and which to adjust in the first six months.",
        ROLES_CAT,
        ["researcher", "student"],
        LAB_TO_PRODUCT,
        _at(3, 17),
    ),
    _guide(
        "ml-system-design-interview-framework",
        "The ML system design interview: a framework that holds up under pressure",
        "A six-step structure for ML system design rounds, with the trade-offs interviewers probe "
        "at senior level and the mistakes that sink otherwise strong candidates.",
        INTERVIEWS_CAT,
        ["software-engineer", "data-scientist"],
        SYSTEM_DESIGN,
        _at(4, 7),
        level=Guide.Level.SENIOR,
        visibility=Guide.Visibility.PAID,
        is_featured=True,
    ),
    _guide(
        "coding-rounds-for-ml-roles",
        "Coding rounds for ML roles: what changes and what doesn't",
        "Most AI loops still include a standard coding interview, often with an ML twist. What to "
        "expect, how to prepare, and a worked example in Python.",
        INTERVIEWS_CAT,
        ["software-engineer", "student", "data-scientist"],
        CODING_ROUNDS,
        _at(1, 27),
    ),
    _guide(
        "ml-fundamentals-study-guide",
        "ML fundamentals for interviews: a four-week study guide",
        "A week-by-week plan through the machine learning theory interviewers actually ask about, "
        "with self-test questions for every topic.",
        INTERVIEWS_CAT,
        ["student", "data-scientist", "software-engineer"],
        FUNDAMENTALS,
        _at(5, 5),
        kind=Guide.Kind.STUDY_GUIDE,
        is_featured=True,
    ),
    _guide(
        "presenting-your-research-in-interviews",
        "Presenting your research in applied AI interviews",
        "How to turn a thesis or paper into a fifteen-minute story that lands with hiring "
        "managers, engineers and product leads alike.",
        INTERVIEWS_CAT,
        ["researcher", "student"],
        RESEARCH_TALK,
        _at(6, 9),
        level=Guide.Level.ADVANCED,
        visibility=Guide.Visibility.MEMBERS,
    ),
    _guide(
        "backend-engineer-to-ai-engineer",
        "From backend engineer to AI engineer without a second degree",
        "A realistic six-month plan for backend and platform engineers moving into AI roles, "
        "built on the skills you already have rather than starting over.",
        CAREER_CAT,
        ["software-engineer"],
        BACKEND_SWITCH,
        _at(3, 3),
        is_featured=True,
    ),
    _guide(
        "negotiating-an-ai-offer",
        "Negotiating an AI offer: levels, equity and the questions to ask",
        "Why the level matters more than the salary, how to compare equity, and the questions to "
        "ask before you sign an offer for an AI role.",
        CAREER_CAT,
        ["software-engineer", "data-scientist", "engineering-leader"],
        NEGOTIATION,
        _at(7, 14),
        level=Guide.Level.SENIOR,
        visibility=Guide.Visibility.PAID,
    ),
    _guide(
        "leading-ai-teams-for-engineering-managers",
        "Leading AI teams: what changes for engineering managers",
        "Planning, quality and hiring all work differently on AI teams. The adjustments that "
        "matter most in a manager's first year.",
        CAREER_CAT,
        ["engineering-leader"],
        LEADING_AI_TEAMS,
        _at(8, 11),
        level=Guide.Level.SENIOR,
        visibility=Guide.Visibility.MEMBERS,
    ),
    _guide(
        "feature-stores-when-you-need-one",
        "Feature stores: what they solve and when you do not need one",
        "The training-serving skew feature stores prevent, the costs they add, and the simpler "
        "alternatives that serve many teams well.",
        DATA_CAT,
        ["software-engineer", "data-scientist"],
        FEATURE_STORES,
        _at(9, 8),
        level=Guide.Level.ADVANCED,
    ),
    _guide(
        "data-quality-for-ml-pipelines",
        "Data quality for ML pipelines: contracts, checks and ownership",
        "Most model failures start as data failures. How to catch them early with data "
        "contracts, automated checks and clear ownership.",
        DATA_CAT,
        ["data-scientist", "software-engineer", "engineering-leader"],
        DATA_QUALITY,
        _at(6, 23),
        is_featured=True,
    ),
    _guide(
        "data-engineer-to-ml-platform-engineer",
        "From data engineer to ML platform engineer",
        "Data engineers already own much of what ML platforms need. The overlap, the gaps to "
        "close, and how to present the move to hiring managers.",
        DATA_CAT,
        ["software-engineer", "data-scientist"],
        PLATFORM_ENGINEER,
        _at(10, 6),
    ),
]


def load(command: Any) -> str:
    categories: dict[str, Category] = {}
    for position, (name, description) in enumerate(CATEGORIES):
        category, _ = Category.objects.update_or_create(
            slug=slugify(name),
            defaults={"name": name, "description": description, "position": position},
        )
        categories[category.slug] = category
    roles: dict[str, Role] = {}
    for position, (name, description) in enumerate(ROLES):
        role, _ = Role.objects.update_or_create(
            slug=slugify(name),
            defaults={"name": name, "description": description, "position": position},
        )
        roles[role.slug] = role
    for data in GUIDES:
        fields = dict(data)
        slug = fields.pop("slug")
        role_slugs = fields.pop("roles")
        fields["category"] = categories[fields["category"]]
        guide, _ = Guide.objects.update_or_create(
            slug=slug,
            defaults={**fields, "status": Guide.Status.PUBLISHED, "read_time_minutes": 0},
        )
        guide.roles.set([roles[role_slug] for role_slug in role_slugs])
    return f"{len(CATEGORIES)} categories, {len(ROLES)} roles, {len(GUIDES)} guides"
